import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HubClient, type GreenlightRequest, type NewRequest, type Role } from '../../protocol/index.js';
import { startHub, type HubOptions, type RunningHub } from '../hub.js';
import { createTestDatabase } from './postgres.js';
import { ADMIN_TOKEN } from './admin-token.js';
import { call } from './http.js';
import { sharedTestKeyFiles } from './test-keys.js';

export type DatabaseKind = 'sqlite' | 'postgres';

export interface TestUser {
  name: string;
  token: string;
}

export { ADMIN_TOKEN };

/** A real hub on port 0 with its own data directory (or PostgreSQL database), and helpers to talk to it. */
export class TestHub {
  hub!: RunningHub;
  readonly dataDir: string;
  databaseUrl: string | undefined;
  private dropDatabase: (() => Promise<void>) | undefined;
  private readonly clients: HubClient[] = [];
  private policyFile: string | undefined;

  constructor(
    readonly database: DatabaseKind = 'sqlite',
    private readonly options: Partial<HubOptions> & { policy?: string } = {},
  ) {
    this.dataDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-test-'));
  }

  get url(): string {
    return this.hub.url;
  }

  async start(): Promise<this> {
    if (this.database === 'postgres' && !this.databaseUrl) {
      const created = await createTestDatabase();
      this.databaseUrl = created.url;
      this.dropDatabase = created.drop;
    }
    if (this.options.policy !== undefined && !this.policyFile) {
      this.policyFile = path.join(this.dataDir, 'policy.yaml');
      writeFileSync(this.policyFile, this.options.policy);
    }
    const { policy: _policy, ...rest } = this.options;
    this.hub = await startHub({
      port: 0,
      dataDir: this.dataDir,
      databaseUrl: this.databaseUrl,
      policyFile: this.policyFile,
      adminToken: ADMIN_TOKEN,
      logLevel: 'silent',
      consoleDir: null,
      print: () => undefined,
      ...sharedTestKeyFiles(),
      ...rest,
    });
    return this;
  }

  get policyPath(): string | undefined {
    return this.policyFile;
  }

  /** Stops the hub, keeping its data, so `start()` brings it back as after a restart. */
  async stop(): Promise<void> {
    for (const client of this.clients.splice(0)) client.close();
    await this.hub.close();
  }

  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    await this.dropDatabase?.();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async api<T = unknown>(method: string, route: string, token: string | null, body?: unknown): Promise<{ status: number; body: T }> {
    // A string body goes as it is (a test's malformed JSON); anything else as JSON.
    const { status, body: parsed } = await call<T>(this.url, method, route, token, typeof body === 'string' ? undefined : body, typeof body === 'string' ? body : undefined);
    return { status, body: parsed };
  }

  async createUser(name: string, roles: Role[], groups: string[] = [], extra: { email?: string } = {}): Promise<TestUser> {
    const { status, body } = await this.api<{ token: string }>('POST', '/api/v1/users', ADMIN_TOKEN, { name, roles, groups, ...extra });
    if (status !== 201) throw new Error(`creating ${name} failed: ${status} ${JSON.stringify(body)}`);
    return { name, token: body.token };
  }

  /** A connected, synced socket client for this user. */
  async connect(user: TestUser): Promise<HubClient> {
    const client = new HubClient({ url: this.url, token: user.token, forceNew: true, transports: ['websocket'], reconnectionDelayMs: 100, reconnectionDelayMaxMs: 500 });
    this.clients.push(client);
    client.connect();
    await client.waitUntilReady();
    return client;
  }
}

/** Two hubs on one PostgreSQL database: the second starts once the first has made and migrated it. */
export async function startOnOneDatabase(first: TestHub, second: TestHub): Promise<void> {
  await first.start();
  second.databaseUrl = first.databaseUrl;
  await second.start();
}

/** A request of `requester`'s that `approver` approved, with the grant token the requester was given. */
export async function approvedRequest(hub: TestHub, requester: TestUser, approver: TestUser, overrides: Parameters<typeof deployRequest>[0] = {}): Promise<{ id: string; token: string }> {
  const created = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', requester.token, deployRequest(overrides));
  if (created.status !== 201) throw new Error(`submitting failed: ${created.status} ${JSON.stringify(created.body)}`);
  const decided = await hub.api('POST', `/api/v1/requests/${created.body.id}/decisions`, approver.token, { decision: 'approve' });
  if (decided.status !== 200) throw new Error(`approving failed: ${decided.status} ${JSON.stringify(decided.body)}`);
  const view = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.body.id}`, requester.token);
  const token = view.body.grant?.token;
  if (!token) throw new Error('the requester got no grant token');
  return { id: created.body.id, token };
}

/** Collects events of one kind from a client, so tests can wait for them. */
export function collect<T>(subscribe: (listener: (value: T) => void) => () => void): { items: T[]; next(predicate?: (value: T) => boolean, timeoutMs?: number): Promise<T> } {
  const items: T[] = [];
  const waiters: { predicate: (value: T) => boolean; resolve: (value: T) => void }[] = [];
  subscribe((value) => {
    items.push(value);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(value)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(value);
      }
    }
  });
  return {
    items,
    next(predicate = () => true, timeoutMs = 10_000) {
      const seen = items.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for an event')), timeoutMs);
        waiters.push({ predicate, resolve: (value) => { clearTimeout(timer); resolve(value); } });
      });
    },
  };
}

export const deployRequest = (overrides: Partial<Record<keyof NewRequest, unknown>> = {}): NewRequest => ({
  action: 'deploy',
  resource: 'payments-api',
  environment: 'production',
  reason: 'hotfix for INC-4412',
  risk: 'high' as const,
  context: { summary: 'roll out 2.4.1', diff: '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n', logs: 'build ok', links: [{ title: 'INC-4412', url: 'https://tickets.example.com/INC-4412' }] },
  ...(overrides as Partial<NewRequest>),
});
