import { sleep } from './clock.js';
import { collectFanout, fanoutPlan, type FanoutResult } from './floor.js';
import { ADMIN_TOKEN, api, createUsers, policy, requestBody, startHubChild, type BenchContext } from './hubs.js';
import { startClientsChild } from './ipc.js';
import { summarize, type Summary } from './stats.js';

export interface NotifyResult extends FanoutResult {
  decideToWait: Summary;
}

/**
 * HTTP submit → `request:created` at each of N approver clients (another process), submissions at
 * a steady rate, SQLite with durable (WAL, synchronous=NORMAL) writes. Then, on the same hub with
 * the approvers still connected: decision → a pending `/wait` long-poll returns.
 */
export interface NotifyOptions {
  /** PostgreSQL instead of a fresh SQLite file. */
  databaseUrl?: string;
  /**
   * Two hubs on one PostgreSQL database: submit and long-poll on hub A, approvers connected to and
   * deciding on hub B (cross-node: Socket.IO's PostgreSQL adapter, the /wait poll).
   */
  crossNode?: boolean;
}

export async function runNotify(ctx: BenchContext, options: NotifyOptions = {}): Promise<NotifyResult> {
  const plan = fanoutPlan(ctx.quick);
  const label = options.crossNode ? 'notify (cross-node)' : options.databaseUrl ? 'notify (postgres)' : 'notify';
  const hub = await startHubChild(ctx, { policy: policy(), databaseUrl: options.databaseUrl });
  const other = options.crossNode ? await startHubChild(ctx, { policy: policy(), databaseUrl: options.databaseUrl }) : null;
  const near = other ?? hub;
  const clients = startClientsChild();
  try {
    ctx.progress(`${label}: creating ${plan.clients} approvers`);
    const [requester] = await createUsers(hub.url, 'requester', 1, ['requester'], []);
    const approvers = await createUsers(hub.url, 'approver', plan.clients, ['approver'], ['sre']);
    if (!requester) throw new Error('no requester');
    const rssBefore = await near.rss();
    ctx.progress(`${label}: connecting ${plan.clients} approver clients`);
    await clients.call({ type: 'connect', url: near.url, tokens: approvers, events: ['request:created'] });
    const rssAfter = await near.rss();
    const latencies = await collectFanout(clients, plan, async (t0) => {
      const { status } = await api(hub.url, 'POST', '/api/v1/requests', requester, requestBody(t0));
      if (status !== 201) throw new Error(`submit failed: ${status}`);
    }, ctx.progress, label);

    const iterations = options.crossNode ? (ctx.quick ? 10 : 40) : ctx.quick ? 20 : 200;
    ctx.progress(`${label} decide→wait: ${iterations} long-polls`);
    const waits: number[] = [];
    const approver = approvers[0] ?? ADMIN_TOKEN;
    await clients.call({ type: 'collect' });
    let delivered = 0;
    for (let i = 0; i < iterations; i++) {
      const { body } = await api<{ id: string }>(hub.url, 'POST', '/api/v1/requests', requester, requestBody());
      let returnedAt = 0;
      const waiting = api<{ status: string }>(hub.url, 'GET', `/api/v1/requests/${body.id}/wait?timeoutSeconds=30`, requester).then((reply) => {
        returnedAt = performance.now();
        return reply;
      });
      // Let the long-poll reach the hub and park, and the new request reach every approver, before
      // deciding: the figure is the decision's path, not a queue behind the last push's 1,000 deliveries
      // on the same two cores.
      delivered += plan.clients;
      await clients.call({ type: 'await-received', count: delivered, timeoutMs: 5_000 });
      await sleep(20);
      const decidedAt = performance.now();
      const decision = await api(near.url, 'POST', `/api/v1/requests/${body.id}/decisions`, approver, { decision: 'approve' });
      if (decision.status !== 200) throw new Error(`decide failed: ${decision.status} ${JSON.stringify(decision.body)}`);
      const waited = await waiting;
      if (waited.body.status !== 'approved') throw new Error(`wait returned ${JSON.stringify(waited.body).slice(0, 200)}`);
      waits.push(returnedAt - decidedAt);
    }
    // Let the clients process drain what the decisions sent before it closes.
    await sleep(200);
    await clients.call({ type: 'collect' });
    return { latency: summarize(latencies), rssBefore, rssAfter, clients: plan.clients, decideToWait: summarize(waits) };
  } finally {
    await clients.close({ type: 'close' });
    await other?.close();
    await hub.close();
  }
}
