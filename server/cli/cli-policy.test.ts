import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PolicyExplanation } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { ADMIN_TOKEN, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { cli } from './cli-harness.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const POLICY = `
rules:
  - name: prod-db
    match: { action: deploy, resource: payments-*, environment: production }
    require:
      - { group: sre, count: 1 }
      - { group: security, count: 1 }
    escalation:
      - { after: 10m, notify: [sre-leads] }
    expireAfter: 1h
    grantTtl: 30m
  - name: staging
    match: { environment: staging }
    autoApprove: true
`;

describe('greenlight policy check', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-policy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const where = path.join(dir, name);
    writeFileSync(where, text);
    return where;
  };

  it('exits 0 for a valid policy and names its rules, without a hub', async () => {
    const result = await cli(['policy', 'check', file('ok.yaml', `${POLICY}  - { name: alerts, match: { action: page }, approvers: [sre], notify: [webhook:pager] }\n`)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid, 3 rules (prod-db, staging, alerts)');
  });

  it('warns, still valid, of an escalation step or a reminder that comes after the request has expired', async () => {
    const late = file('late.yaml', 'rules:\n  - name: prod-db\n    approvers: [sre]\n    expireAfter: 30m\n    remind: 45m\n    escalation: [{ after: 10m, notify: [leads] }, { after: 30m, notify: [managers] }]\n');
    const result = await cli(['policy', 'check', late]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid, 1 rule (prod-db)');
    expect(result.stderr.split('\n').filter((line) => line.startsWith('warning: '))).toEqual([
      'warning: rule "prod-db": escalation step 2 (after 30m) comes at or after expireAfter (30m): the request has expired by then, so it never pages anyone; escalate sooner or let requests wait longer',
      'warning: rule "prod-db": remind (45m) comes at or after expireAfter (30m): no reminder is ever sent',
    ]);
    expect(JSON.parse((await cli(['policy', 'check', late, '--json'])).stdout)).toMatchObject({ valid: true, warnings: [expect.stringContaining('escalation step 2'), expect.stringContaining('remind (45m)')] });
  });

  it('warns, still valid, of an extendBefore longer than maxScheduleAhead, which extensions cannot use', async () => {
    const result = await cli(['policy', 'check', file('extend.yaml', 'rules:\n  - name: long-jobs\n    approvers: [sre]\n    grantTtl: 2d\n    maxScheduleAhead: 1d\n    extendBefore: 3d\n')]);
    expect(result.code).toBe(0);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('warning: '))).toEqual([
      'warning: rule "long-jobs": extendBefore (3d) is longer than maxScheduleAhead (1d): an extension starts where the grant ends, so it can be asked only in a grant\'s last 1d',
    ]);
  });

  it('exits 1 with an error naming the rule and the field', async () => {
    const result = await cli(['policy', 'check', file('bad.yaml', 'rules:\n  - name: prod-db\n    require: [{ group: sre, count: 0 }]\n')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rule "prod-db": require.0.count');
  });

  it('takes cooldown: 0s (no cooldown) and refuses a 0s grantTtl, saying why', async () => {
    const glass = '    breakGlass: { groups: [oncall], cooldown: 0s, reviewers: [security] }\n';
    const ok = await cli(['policy', 'check', file('cooldown.yaml', `rules:\n  - name: prod-db\n    approvers: [sre]\n${glass}`)]);
    expect(ok.code).toBe(0);
    const zero = await cli(['policy', 'check', file('zero.yaml', 'rules:\n  - name: prod-db\n    approvers: [sre]\n    grantTtl: 0s\n')]);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain('rule "prod-db": grantTtl: must be longer than 0s: a grant would end as it starts');
  });

  it('exits 2 for a file it cannot read', async () => {
    const result = await cli(['policy', 'check', path.join(dir, 'missing.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot read');
  });
});

describe('greenlight policy explain and GET /api/v1/policy/explain', () => {
  const clock = new ManualClock(new Date('2026-12-03T09:00:00Z'));
  const hub = new TestHub('sqlite', { policy: POLICY, clock });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('sam', ['approver'], ['sre']);
    await hub.createUser('sue', ['approver'], ['security']);
    await hub.createUser('alex', ['approver'], ['sre', 'security']);
  });
  afterAll(() => hub.dispose());

  const explain = (token: string, query: string) => hub.api<PolicyExplanation & { error: { code: string } }>('GET', `/api/v1/policy/explain?${query}`, token);

  it('says which rule matches, who approves per group, the timeline with clock times and the TTL', async () => {
    const reply = await explain(alice.token, 'action=deploy&resource=payments-api&environment=production&risk=high');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      matched: true,
      rule: 'prod-db',
      summary: 'needs sre 1 + security 1; escalates to sre-leads in 10m; expires after 1h',
      approvals: 2,
      groups: [
        { group: 'sre', count: 1, members: ['alex', 'sam'] },
        { group: 'security', count: 1, members: ['alex', 'sue'] },
      ],
      escalation: [{ afterSeconds: 600, at: '2026-12-03T09:10:00.000Z', notify: ['sre-leads'] }],
      expiresAt: '2026-12-03T10:00:00.000Z',
      grantTtlSeconds: 1800,
      skipped: [],
    });
  });

  it('says why for each rule when nothing matches', async () => {
    const reply = await explain(alice.token, 'action=deploy&resource=orders-api&environment=production');
    expect(reply.body).toMatchObject({
      matched: false,
      rule: null,
      skipped: [
        { rule: 'prod-db', why: 'resource "orders-api" is not payments-*' },
        { rule: 'staging', why: 'environment "production" is not staging' },
      ],
    });
  });

  it('answers "as" someone else only for admins, and refuses a bad question with the field', async () => {
    expect((await explain(alice.token, 'action=deploy&resource=payments-api&environment=production&as=sam')).body.error.code).toBe('FORBIDDEN');
    const asSam = await explain(ADMIN_TOKEN, 'action=deploy&resource=payments-api&environment=production&as=sam');
    // Sam may not approve his own request, so he is not among the SRE who could.
    expect(asSam.body.groups[0]?.members).toEqual(['alex']);
    const bad = await explain(alice.token, 'action=deploy&environment=production');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_INPUT');
  });

  it('prints the same from the CLI, with clock times', async () => {
    const result = await cli(['policy', 'explain', '--action', 'deploy', '--resource', 'payments-api', '--env', 'production'], { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: alice.token, TZ: 'UTC' });
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      'rule prod-db: needs sre 1 + security 1; escalates to sre-leads in 10m; expires after 1h',
      '  sre: 1 of alex, sam',
      '  security: 1 of alex, sue',
      '  at 09:10: escalates to sre-leads',
      '  at 10:00: expires if undecided',
      '  grant valid for 30 min',
      '',
    ]);
    const none = await cli(['policy', 'explain', '--action', 'deploy', '--resource', 'orders-api', '--env', 'production'], { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: alice.token });
    expect(none.stdout).toContain('rule prod-db does not apply: resource "orders-api" is not payments-*');
  });
});

describe('policy explain: windows and break-glass', () => {
  const GLASS_POLICY = `
rules:
  - name: failover
    match: { action: failover }
    approvers: [sre]
    windows:
      - { days: [mon, tue, wed, thu, fri], from: "08:00", to: "19:00", timezone: Europe/Berlin }
    breakGlass: { groups: [oncall], maxTtl: 1h, cooldown: 4h, reviewers: [security] }
`;
  const hub = new TestHub('sqlite', { policy: GLASS_POLICY });
  let dave: TestUser;
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    dave = await hub.createUser('dave', ['requester'], ['oncall']);
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('sam', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it('names the windows access is cut to, who may break glass with its limits, and whether the asker may', async () => {
    const query = '/api/v1/policy/explain?action=failover&resource=orders-db&environment=production';
    const asDave = await hub.api<PolicyExplanation>('GET', query, dave.token);
    expect(asDave.body.windows).toEqual([{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '19:00', timezone: 'Europe/Berlin' }]);
    expect(asDave.body.breakGlass).toEqual({ groups: ['oncall'], maxTtlSeconds: 3600, cooldownSeconds: 14_400, reviewers: ['security'], eligible: true });
    const asAlice = await hub.api<PolicyExplanation>('GET', query, alice.token);
    expect(asAlice.body.breakGlass?.eligible).toBe(false);
  });
});
