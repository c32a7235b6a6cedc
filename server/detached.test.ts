import { describe, expect, it } from 'vitest';
import { capturedLog } from './test-support/captured-log.js';
import { detached } from './detached.js';

describe('detached work', () => {
  it('logs what it throws, or rejects with, naming the work and its context, instead of letting it escape', async () => {
    const log = capturedLog<{ level: number; msg: string; event?: string; err?: { message: string } }>('error');
    expect(() =>
      detached(log.logger, 'pushing a request event', () => {
        throw new Error('no decisions');
      }, { event: 'request.updated' }),
    ).not.toThrow();
    const failing = Promise.reject(new Error('database gone'));
    detached(log.logger, 'sending due notifications', () => failing);
    // Handlers run in the order they were attached: by this one, the helper's has logged.
    await failing.catch(() => undefined);
    expect(log.lines()).toEqual([
      expect.objectContaining({ level: 50, event: 'request.updated', msg: 'pushing a request event failed; the hub carries on', err: expect.objectContaining({ message: 'no decisions' }) }),
      expect.objectContaining({ level: 50, msg: 'sending due notifications failed; the hub carries on', err: expect.objectContaining({ message: 'database gone' }) }),
    ]);
  });
});
