import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { mapLimit } from '../server/test-support/map-limit.js';
import { until, wallMs } from './clock.js';
import { api, createUsers, requestBody, startHubChild, type BenchContext } from './hubs.js';
import { summarize, type Summary } from './stats.js';

export interface OutboxResult {
  /** Commit (the payload's `timestamp`) → the signed webhook fully received here. */
  lag: Summary;
  /** A bare HTTP POST of a body of the same size from the hub's process → received here. */
  floor: Summary;
  events: number;
}

const CONCURRENCY = 16;

/** Reads a request body and notes when its last byte arrived. */
function receive(req: IncomingMessage): Promise<{ raw: string; at: number }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve({ raw: Buffer.concat(chunks).toString('utf8'), at: wallMs() }));
  });
}

/**
 * Commit → signed webhook at a local receiver, 1,000 events (200 with --quick), submitted 16 at a
 * time to a hub (SQLite) whose rule notifies one webhook. The floor is the same number of plain POSTs,
 * same body size and concurrency, sent from the hub's own process to the same receiver. The commit
 * time is the payload's `timestamp`: millisecond resolution, taken inside the transaction just before
 * it commits; the hub and this process share the system clock.
 */
export async function runOutbox(ctx: BenchContext): Promise<OutboxResult> {
  const count = ctx.quick ? 200 : 1000;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const lags: number[] = [];
  const floors: number[] = [];
  /** The size of a real delivery, for the floor's body. */
  let bodyBytes = 0;
  const receiver = createServer((req, res) => {
    void receive(req).then(({ raw, at }) => {
      const t0 = req.headers['x-t0'];
      if (typeof t0 === 'string') floors.push(at - Number(t0));
      else {
        if (!bodyBytes) {
          // Once: what arrives is a valid Standard Webhooks delivery (verifying each would load this process).
          const headers = Object.fromEntries(Object.entries(req.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
          new Webhook(secret).verify(raw, headers);
          bodyBytes = Buffer.byteLength(raw);
        }
        lags.push(at - Date.parse((JSON.parse(raw) as { timestamp: string }).timestamp));
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const policyText = 'rules:\n  - name: bench\n    match: { action: deploy }\n    approvers: [sre]\n    notify: [webhook:bench]\n';
  const hub = await startHubChild(ctx, {
    policy: policyText,
    notifiers: { allowPrivateNetworks: true, webhooks: [{ name: 'bench', url: receiverUrl, secret, maxConcurrency: CONCURRENCY }] },
  });
  try {
    const [requester] = await createUsers(hub.url, 'requester', 1, ['requester'], []);
    if (!requester) throw new Error('no requester');
    ctx.progress(`outbox: ${count} submissions, each announced to a local webhook receiver`);
    await mapLimit(Array.from({ length: count }, (_, i) => i), CONCURRENCY, async (i) => {
      const { status } = await api(hub.url, 'POST', '/api/v1/requests', requester, requestBody(wallMs(), `svc-${i}`));
      if (status !== 201) throw new Error(`submit failed: ${status}`);
    });
    await until(() => lags.length >= count, 60_000, `${count} webhooks`);
    ctx.progress(`outbox: floor, ${count} bare POSTs from the hub's process`);
    const body = JSON.stringify({ pad: 'x'.repeat(Math.max(0, bodyBytes - 10)) });
    await hub.child.call({ type: 'http-post-floor', url: receiverUrl, body, count, concurrency: CONCURRENCY });
    await until(() => floors.length >= count, 60_000, `${count} floor POSTs`);
    return { lag: summarize(lags), floor: summarize(floors), events: lags.length };
  } finally {
    await hub.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}
