import { describe, expect, it } from 'vitest';
import { HubHttp } from './hub-http.js';

const event = (seq: number, type: string) => ({
  seq,
  at: '2026-12-05T14:00:00.000Z',
  actor: 'bob',
  type,
  requestId: 'req_1',
  action: 'deploy',
  resource: 'payments-api',
  environment: 'production',
  outcome: null,
  data: {},
  prevHash: '0'.repeat(64),
  hash: '1'.repeat(64),
});

describe('a page of history from a hub newer than the client (answered by a stand-in fetch)', () => {
  it('keeps an event of a type this build does not know, as text, beside the ones it knows', async () => {
    const body = { events: [event(1, 'request.submitted'), event(2, 'request.kind_added_later'), event(3, 'request.approved')], nextCursor: null };
    const http = new HubHttp({
      fetch: async () => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }),
      session: () => ({ hubUrl: 'http://hub.test', token: 'glt_admin' }),
    });
    const page = await http.audit('limit=50');
    expect(page.events.map((each) => each.type)).toEqual(['request.submitted', 'request.kind_added_later', 'request.approved']);
  });
});
