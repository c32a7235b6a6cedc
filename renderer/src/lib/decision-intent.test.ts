import { describe, expect, it } from 'vitest';
import { CHOOSE_FIRST, ctrlEnter, ctrlEnterHint } from './decision-intent.js';

describe('Ctrl+Enter in the comment box', () => {
  it('denies once the person chose deny', () => {
    expect(ctrlEnter('deny')).toEqual({ send: 'deny' });
    expect(ctrlEnterHint('deny')).toBe('denies with this comment');
  });

  it('approves only once the person chose approve', () => {
    expect(ctrlEnter('approve')).toEqual({ send: 'approve' });
    expect(ctrlEnterHint('approve')).toBe('approves with this comment');
  });

  it('sends nothing and asks for a choice when none was made', () => {
    expect(ctrlEnter(null)).toEqual({ ask: CHOOSE_FIRST });
    expect(ctrlEnterHint(null)).toContain('sends nothing');
  });
});
