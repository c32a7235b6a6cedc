import { describe, expect, it } from 'vitest';
import type { GreenlightRequest, SyncResult } from '../../protocol/index.js';
import { requestFixture } from '../../protocol/request-fixture.js';
import type { TurnTaker } from '../domain/turns.js';
import { encodeSyncAnswer } from './sync-answer.js';

/** Counts the turns taken; each is granted at once. */
function countingTurns(): TurnTaker & { taken: number } {
  const turns = { taken: 0, next: async () => void turns.taken++ };
  return turns;
}

function syncResult(inbox: GreenlightRequest[], mine: GreenlightRequest[]): SyncResult {
  return {
    me: { id: 'usr_bob', name: 'bob', roles: ['approver'], groups: ['sre'], email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: '' },
    inbox,
    mine,
    offers: [],
    serverTime: '2026-12-06T00:00:00.000Z',
  };
}

const requests = (count: number, prefix: string) =>
  Array.from({ length: count }, (_, i) => requestFixture({ id: `req_${prefix}${i}`, reason: `fix «${i}» "now"\n\u2028`, requester: 'zoë' }));

describe('a sync’s answer encoded in turns', () => {
  it('is the very text JSON.stringify makes of { data: result }, whatever the text in the requests', async () => {
    const result = syncResult(requests(600, 'in'), requests(3, 'mine'));
    const answer = await encodeSyncAnswer(result, countingTurns(), (request) => JSON.stringify(request));
    expect(answer.json).toBe(JSON.stringify({ data: result }));
  });

  it('encodes a few hundred requests per turn, so a large inbox takes several turns', async () => {
    const turns = countingTurns();
    await encodeSyncAnswer(syncResult(requests(600, 'in'), requests(3, 'mine')), turns, (request) => JSON.stringify(request));
    expect(turns.taken).toBe(3 + 1);
  });

  it('answers with empty lists when nothing waits and I have asked for nothing', async () => {
    const result = syncResult([], []);
    const answer = await encodeSyncAnswer(result, countingTurns(), (request) => JSON.stringify(request));
    expect(answer.json).toBe(JSON.stringify({ data: result }));
  });

  it('uses the text the encoder hands back for each request', async () => {
    const [request] = requests(1, 'kept');
    if (!request) throw new Error('no request');
    const kept = JSON.stringify({ ...request, reason: 'kept text' });
    const answer = await encodeSyncAnswer(syncResult([request], []), countingTurns(), () => kept);
    expect((JSON.parse(answer.json) as { data: SyncResult }).data.inbox[0]?.reason).toBe('kept text');
  });
});
