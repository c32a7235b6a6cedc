import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { run } from './main.js';
import type { Io } from './output.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
  - name: staging
    match: { action: deploy, environment: staging }
    autoApprove: true
`;

function memoryIo(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const io: Io = { stdout, stderr, env };
  return { io, out: () => out, err: () => err };
}

describe('greenlight report', () => {
  // The hub's clock starts a day ago, so `--since 30d` on this machine's clock covers what it records.
  const clock = new ManualClock(new Date(Math.floor(Date.now() / 1000) * 1000 - 86_400_000));
  const hub = new TestHub('sqlite', { policy: POLICY, clock });
  let alice: TestUser, bob: TestUser;
  const cli = async (args: string[]) => {
    const io = memoryIo({ GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: ADMIN_TOKEN });
    const code = await run(['report', ...args], io.io);
    return { code, stdout: io.out(), stderr: io.err() };
  };

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    const submit = async (body: unknown) => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, body)).body;
    const decide = (id: string, decision: string) => hub.api('POST', `/api/v1/requests/${id}/decisions`, bob.token, { decision, comment: 'ok' });
    const quick = await submit(deployRequest({ reason: 'quick' }));
    const slow = await submit(deployRequest({ reason: 'slow' }));
    await submit(deployRequest({ environment: 'staging', reason: 'auto' }));
    clock.advance(90_000);
    await decide(quick.id, 'approve');
    clock.advance(540_000);
    await hub.hub.scheduler.runNow();
    await decide(slow.id, 'deny'); // 630 s, escalated at 5 min
  });
  afterAll(() => hub.dispose());

  it('prints a table: median and 95th percentile per rule, shares as percentages', async () => {
    const { code, stdout, stderr } = await cli(['--since', '30d']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^time to decision for requests submitted \S+Z → \S+Z$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/))).toEqual([
      ['rule', 'submitted', 'decided', 'median', 'p95', 'escalated', 'expired', 'auto-approved'],
      // 90 s and 630 s: the median halfway (6m), the 95th percentile at 90 + 0.95 × 540 = 603 s.
      ['prod', '2', '2', '6m', '10m 3s', '50%', '0%', '0%'],
      ['staging', '1', '0', '—', '—', '0%', '0%', '100%'],
    ]);
  });

  it('writes CSV with raw seconds and shares, empty where there is no time', async () => {
    const { code, stdout } = await cli(['--format', 'csv']);
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    expect(header).toBe('rule,submitted,decided,median_seconds,p95_seconds,escalated_share,expired_share,auto_approved_share,approved,denied,auto_approved,expired,cancelled,pending,escalated');
    expect(rows).toEqual(['prod,2,2,360,603,0.5,0,0,1,1,0,0,0,0,1', 'staging,1,0,,,0,0,1,0,0,1,0,0,0,0']);
  });

  it('passes the hub answer through as JSON', async () => {
    const { code, stdout } = await cli(['--format', 'json', '--since', '2d']);
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as { rules: { rule: string; medianSeconds: number | null }[] };
    expect(parsed.rules.map((rule) => [rule.rule, rule.medianSeconds])).toEqual([['prod', 360], ['staging', null]]);
  });

  it('says when nothing was submitted in the range', async () => {
    // The fixture's requests are a day old: the last hour holds none.
    const { code, stdout } = await cli(['--since', '1h']);
    expect(code).toBe(0);
    expect(stdout.trimEnd().split('\n')[1]).toBe('no requests were submitted in this range');
  });

  it('refuses flags it cannot use with exit 2 and a message that says what to write', async () => {
    for (const [args, message] of [
      [['--since', 'a month'], /--since: "a month" is not a duration; use e\.g\. 30s, 5m, 1h or 2d/],
      [['--since', '400d'], /--since: at most 366d/],
      [['--format', 'xml'], /argument 'xml' is invalid\. Allowed choices are table, csv, json/],
    ] as const) {
      const { code, stderr } = await cli([...args]);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).toMatch(message);
    }
    const noToken = memoryIo({ GREENLIGHT_HUB: hub.url });
    expect(await run(['report'], noToken.io)).toBe(2);
    const notAdmin = memoryIo({ GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: bob.token });
    expect(await run(['report'], notAdmin.io)).toBe(1);
    expect(notAdmin.err()).toMatch(/Only an admin can do this\. \(FORBIDDEN\)/);
  });
});
