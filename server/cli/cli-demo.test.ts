import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest, User } from '../../protocol/index.js';
import { cli, startCli, type CliProcess } from './cli-harness.js';
import { DEMO_POLICY } from './demo-content.js';

// Each run is a real `greenlight demo` process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

interface Printed {
  url: string;
  links: Record<string, string>;
  requests: string[];
}

/** Starts the demo and reads what it printed once its hub is up. */
async function runDemo(dataDir: string): Promise<{ demo: CliProcess; printed: Printed }> {
  const demo = startCli(['demo', '--port', '0', '--data-dir', dataDir]);
  const [, url] = await demo.waitFor('stderr', /Greenlight hub listening on (http:\/\/\S+)/, 60_000);
  const links = Object.fromEntries([...demo.stdout.matchAll(/^ {2}(\w+)\s+(http:\/\/\S+\/#token=(glt_\S+))\s/gm)].map((match) => [match[1], match[3]]));
  const requests = [...demo.stdout.matchAll(/^ {2}(req_\w+) {2}/gm)].map((match) => match[1] ?? '');
  for (const match of demo.stdout.matchAll(/#token=\S+/g)) expect(match[0].startsWith('#token=glt_')).toBe(true);
  return { demo, printed: { url: url ?? '', links, requests } };
}

async function stop(demo: CliProcess): Promise<number | null> {
  demo.child.kill('SIGINT');
  return (await demo.exited).code;
}

async function api<T>(url: string, method: string, route: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(url + route, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

describe('greenlight demo', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-demo-'));
  const dataDir = path.join(dir, 'demo');
  let blocker: Server | null = null;
  afterAll(async () => {
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a working sign-in link per person and three requests waiting on bob, one escalating to lena within a minute', async () => {
    const { demo, printed } = await runDemo(dataDir);
    try {
      expect(Object.keys(printed.links)).toEqual(['alice', 'bob', 'lena', 'admin']);
      expect(demo.stdout).toContain(`Greenlight demo hub on ${printed.url} (data and hub.log in ${dataDir})`);
      for (const [name, token] of Object.entries(printed.links)) {
        const me = await api<User>(printed.url, 'GET', '/api/v1/me', token);
        expect(me.body.name).toBe(name);
      }
      expect(readFileSync(path.join(dataDir, 'policy.yaml'), 'utf8')).toBe(DEMO_POLICY);
      expect(existsSync(path.join(dataDir, 'hub.log'))).toBe(true);

      const bob = printed.links.bob ?? '';
      expect(printed.requests).toHaveLength(3);
      const requests = await Promise.all(printed.requests.map(async (id) => (await api<GreenlightRequest>(printed.url, 'GET', `/api/v1/requests/${id}`, bob)).body));
      expect(requests.map((request) => [request.requester, request.status, request.rule.name, request.risk])).toEqual([
        ['alice', 'pending', 'production-deploys', 'high'],
        ['alice', 'pending', 'database-access', 'high'],
        ['alice', 'pending', 'feature-flags', 'medium'],
      ]);
      const [deploy, , flag] = requests;
      expect(deploy?.context).toMatchObject({ diff: expect.stringContaining('+  tag: 2.4.1'), logs: expect.stringContaining('0 charged twice') });
      expect(deploy?.context.links?.length).toBe(3);
      expect(flag?.rule.escalation).toEqual([{ afterSeconds: 60, notify: ['leads'] }]);
      expect(Date.parse(flag?.nextEscalationAt ?? '') - Date.parse(flag?.createdAt ?? '')).toBe(60_000);
      expect(demo.stdout).toMatch(/toggle-flag checkout-web in production, risk medium; escalates to leads \(lena\) in (1m|\d+s)$/m);

      // bob approves the deploy before the demo stops.
      const approved = await api<GreenlightRequest>(printed.url, 'POST', `/api/v1/requests/${deploy?.id ?? ''}/decisions`, bob, { decision: 'approve' });
      expect(approved.body.status).toBe('approved');
    } finally {
      expect(await stop(demo)).toBe(0);
    }
  });

  it('on a second run keeps the people and their links, finds what is still pending and asks again for what was decided', async () => {
    const before = JSON.parse(readFileSync(path.join(dataDir, 'demo-tokens.json'), 'utf8')) as Record<string, string>;
    const { demo, printed } = await runDemo(dataDir);
    try {
      expect(printed.links).toEqual({ ...before, admin: readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim() });
      const users = await api<{ users: User[] }>(printed.url, 'GET', '/api/v1/users', printed.links.admin ?? '');
      expect(users.body.users.map((user) => user.name).sort()).toEqual(['admin', 'alice', 'bob', 'lena']);
      const mine = await api<{ requests: GreenlightRequest[] }>(printed.url, 'GET', '/api/v1/requests?mine=true', printed.links.alice ?? '');
      // Four in all: the three of the first run, and a new deploy in place of the approved one.
      expect(mine.body.requests.map((request) => request.status).sort()).toEqual(['approved', 'pending', 'pending', 'pending']);
      const pending = mine.body.requests.filter((request) => request.status === 'pending').map((request) => request.id);
      expect([...printed.requests].sort()).toEqual([...pending].sort());
    } finally {
      expect(await stop(demo)).toBe(0);
    }
  });

  it('says so, and exits 2, when its port is taken', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const result = await cli(['demo', '--port', String(port), '--data-dir', path.join(dir, 'taken')]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`error: cannot start the demo hub: port ${port} on 127.0.0.1 is already in use (is npm start running?); pick another with --port`);
  });
});
