import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.js';
import { TeamsEndpoint } from './endpoint.js';

describe('a Teams card whose still-due check cannot read the database', () => {
  it('is not posted, counts as failed to be tried again, and the row says why', async () => {
    // Nothing is listening on this address: the card must never be posted.
    const endpoint = new TeamsEndpoint({ name: 'ops', url: 'http://127.0.0.1:9/never' }, true, new ManualClock(new Date('2026-12-07T12:00:00Z')));
    endpoint.attach(
      () => 'https://greenlight.example.com',
      () => Promise.reject(new Error('Connection terminated unexpectedly')),
    );
    const outcome = await endpoint.send('n-1', '{}', new AbortController().signal, { type: 'request.created', requestId: 'r-1' });
    endpoint.close();
    expect(outcome).toEqual({ kind: 'failed', status: null, error: 'cannot read whether the card is still due: Connection terminated unexpectedly', retryAfterMs: null });
  });
});
