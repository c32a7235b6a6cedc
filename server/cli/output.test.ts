import { describe, expect, it } from 'vitest';
import { requestFixture } from '../../protocol/request-fixture.js';
import { statusLine } from './output.js';

describe('statusLine', () => {
  it('names the delegate and the approver of the denial when the hub does not say who decided', () => {
    const denied = requestFixture({
      status: 'denied',
      decidedBy: null,
      decisions: [{ approver: 'sue', by: 'dana', decision: 'deny', comment: 'not in the freeze', at: '2026-12-01T10:00:00.000Z' }],
    });
    expect(statusLine(denied)).toBe('req_1 denied by dana for sue: "not in the freeze"');
  });
});
