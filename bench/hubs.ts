import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool, type Dispatcher } from 'undici';
import { mapLimit } from '../server/test-support/map-limit.js';
import { startServerChild, type ServerChild } from './ipc.js';
import { wallMs } from './clock.js';

import { ADMIN_TOKEN } from '../server/test-support/admin-token.js';

export { ADMIN_TOKEN };

export interface BenchContext {
  quick: boolean;
  /** Extra node flags for the server process (e.g. --cpu-prof). */
  serverExecArgv: string[];
  progress(message: string): void;
}

// One keep-alive pool per hub: undici's request API costs the load generator about a seventh of
// what fetch does, so the figures measure the hub rather than the client sharing its two cores.
const pools = new Map<string, Pool>();

function poolFor(url: string): Pool {
  let pool = pools.get(url);
  if (!pool) {
    pool = new Pool(url, { connections: 64 });
    pools.set(url, pool);
  }
  return pool;
}

export async function api<T = unknown>(url: string, method: Dispatcher.HttpMethod, route: string, token: string | null, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await poolFor(url).request({
    path: route,
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: (text ? JSON.parse(text) : null) as T };
}

/** Closes the pool kept for a hub that is stopping. */
export async function closePool(url: string): Promise<void> {
  const pool = pools.get(url);
  pools.delete(url);
  await pool?.close();
}


/** A submission like a pipeline's, carrying the sender's wall-clock stamp in context.fields.t0. */
export function requestBody(t0: number = wallMs(), resource = 'payments-api'): Record<string, unknown> {
  return {
    action: 'deploy',
    resource,
    environment: 'production',
    reason: 'hotfix for INC-4412',
    risk: 'high',
    context: {
      summary: 'roll out 2.4.1',
      diff: '--- a/app.yaml\n+++ b/app.yaml\n@@ -1 +1 @@\n-image: 2.4.0\n+image: 2.4.1\n',
      logs: 'build 812 passed',
      links: [{ title: 'INC-4412', url: 'https://tickets.example.com/INC-4412' }],
      fields: { commit: '3f9c2a1', t0: String(t0) },
    },
  };
}

/** A payload shaped like the hub's `request:created` view, for the bare server to relay. */
export function floorPayload(t0: number): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    id: 'req_0mwv1ikocc9d9940cf26bcf20',
    requester: 'requester',
    status: 'pending',
    ...requestBody(t0),
    requestedTtlSeconds: null,
    rule: { name: 'bench', approvers: ['sre'], minApprovals: 1, allowSelfApproval: false, escalation: [], expireAfterSeconds: null, grantTtlSeconds: 900, claimHoldsSeconds: 600, autoApprove: false },
    eligibleGroups: ['sre'],
    eligibleUsers: [],
    escalationLevel: 0,
    nextEscalationAt: null,
    expiresAt: null,
    claim: null,
    createdAt: now,
    updatedAt: now,
    decidedAt: null,
    decidedBy: null,
    decisions: [],
    grant: null,
  };
}

export interface HubChild {
  child: ServerChild;
  url: string;
  dataDir: string;
  rss(): Promise<number>;
  /** The highest RSS the hub's process has reached so far. */
  maxRss(): Promise<number>;
  cpuMicros(): Promise<number>;
  close(): Promise<void>;
}

/** A hub in its own process, on a fresh data directory (or the given one / a PostgreSQL URL). */
export async function startHubChild(ctx: BenchContext, options: { policy: string; dataDir?: string; databaseUrl?: string; keepData?: boolean; sqliteSync?: 'NORMAL' | 'FULL'; notifiers?: unknown }): Promise<HubChild> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'greenlight-bench-'));
  const policyFile = path.join(dataDir, 'policy.yaml');
  writeFileSync(policyFile, options.policy);
  const child = startServerChild(ctx.serverExecArgv);
  const { url } = await child.call({ type: 'start-hub', dataDir, policyFile, databaseUrl: options.databaseUrl ?? null, adminToken: ADMIN_TOKEN, sqliteSync: options.sqliteSync, notifiers: options.notifiers });
  if (!url) throw new Error('the hub did not report its URL');
  return {
    child,
    url,
    dataDir,
    rss: async () => (await child.call({ type: 'rss' })).rss ?? Number.NaN,
    maxRss: async () => (await child.call({ type: 'max-rss' })).maxRss ?? Number.NaN,
    cpuMicros: async () => (await child.call({ type: 'cpu' })).cpuMicros ?? Number.NaN,
    close: async () => {
      await closePool(url);
      await child.close({ type: 'stop' });
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function policy(options: { escalateAfter?: string; minApprovals?: number } = {}): string {
  // One requester submits the whole load, so the per-requester pending cap is lifted.
  const lines = ['rules:', '  - name: bench', '    match: { action: deploy }', '    approvers: [sre]', `    minApprovals: ${options.minApprovals ?? 1}`, '    maxPending: 1000000'];
  if (options.escalateAfter) lines.push('    escalation:', `      - { after: ${options.escalateAfter}, notify: [leads] }`);
  return lines.join('\n') + '\n';
}

/** Creates `count` users over the API (admin token) and returns their tokens. */
export async function createUsers(url: string, prefix: string, count: number, roles: string[], groups: string[]): Promise<string[]> {
  return mapLimit(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
    const { status, body } = await api<{ token: string }>(url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: `${prefix}${i}`, roles, groups });
    if (status !== 201) throw new Error(`creating user ${prefix}${i} failed: ${status} ${JSON.stringify(body)}`);
    return body.token;
  });
}
