import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli, CliHub } from './cli-harness.js';
import { answerLosingProxy } from '../test-support/answer-losing-proxy.js';

// Every step is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const hub = new CliHub();
let dev: string;
let sre: string;

/** An auto-approved staging request: the quickest way to a fresh grant token. */
async function freshGrant(): Promise<string> {
  const result = await cli(['request', '--action', 'deploy', '--resource', 'web', '--env', 'staging', '--reason', 'grant test', '--wait'], hub.as(dev));
  expect(result.code).toBe(0);
  return result.stdout.trim();
}

beforeAll(async () => {
  await hub.start();
  dev = await hub.addUser('dev', ['requester'], ['payments']);
  sre = await hub.addUser('sre-1', ['approver'], ['sre']);
});
afterAll(() => hub.dispose());

describe('greenlight grant', () => {
  it('verifies and redeems without an API token; a second redeem fails with ALREADY_REDEEMED', async () => {
    const grant = await freshGrant();
    const anonymous = { GREENLIGHT_HUB: hub.url };

    const verified = await cli(['grant', 'verify', grant], anonymous);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^valid: deploy on web in staging for dev \(request req_\w+, grant gnt_\w+, until .+\)$/m);

    const redeemed = await cli(['grant', 'redeem', grant], anonymous);
    expect(redeemed.code).toBe(0);
    expect(redeemed.stdout).toContain('redeemed: deploy on web in staging for dev');

    const again = await cli(['grant', 'redeem', grant], anonymous);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .+ \(ALREADY_REDEEMED\)$/m);

    const afterUse = await cli(['grant', 'verify', grant, '--json'], anonymous);
    expect(afterUse.code).toBe(1);
    expect(JSON.parse(afterUse.stdout)).toMatchObject({ valid: false, reason: 'redeemed' });
  });

  it('a redeem whose answer is lost on the way back is retried as the same use: redeemed, and used once', async () => {
    const grant = await freshGrant();
    const proxy = await answerLosingProxy(hub.url, (incoming) => incoming.url === '/api/v1/grants/redeem');
    try {
      const result = await cli(['grant', 'redeem', grant], { GREENLIGHT_HUB: proxy.url });
      expect(proxy.dropped()).toBe(true);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('retrying');
      expect(result.stdout).toContain('redeemed: deploy on web in staging for dev');
    } finally {
      await proxy.close();
    }
    const afterUse = await cli(['grant', 'verify', grant, '--json'], { GREENLIGHT_HUB: hub.url });
    expect(JSON.parse(afterUse.stdout)).toMatchObject({ valid: false, reason: 'redeemed' });
  });

  it('a pipeline step run again with its --redemption-key hears its use went through; another key is told the grant was used', async () => {
    const grant = await freshGrant();
    const anonymous = { GREENLIGHT_HUB: hub.url };
    const key = ['--redemption-key', 'pipeline-812-deploy-step'];
    expect((await cli(['grant', 'redeem', grant, ...key], anonymous)).code).toBe(0);
    const again = await cli(['grant', 'redeem', grant, ...key, '--json'], anonymous);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ valid: true, redeemedAt: expect.any(String) });
    const other = await cli(['grant', 'redeem', grant, '--redemption-key', 'someone-else-entirely'], anonymous);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/\(ALREADY_REDEEMED\)$/m);
    const tooShort = await cli(['grant', 'redeem', grant, '--redemption-key', 'x'], anonymous);
    expect(tooShort.code).toBe(2);
    expect(tooShort.stderr).toContain('must be 16 to 128 letters');
  });

  it('exits 1 for a token this hub did not sign', async () => {
    const [header, payload] = (await freshGrant()).split('.');
    const forged = `${header}.${payload}.${Buffer.alloc(64, 7).toString('base64url')}`;
    const result = await cli(['grant', 'verify', forged], { GREENLIGHT_HUB: hub.url });
    expect(result.code).toBe(1);
    expect(result.stdout.trim()).toBe('invalid: its signature does not match this hub');
  });

  it('exits 1 saying it is not a grant at all for something that is not a token', async () => {
    for (const text of ['not-a-jwt', 'not.a.grant']) {
      const result = await cli(['grant', 'verify', text], { GREENLIGHT_HUB: hub.url });
      expect(result.code).toBe(1);
      expect(result.stdout.trim()).toBe('invalid: this is not a grant token (a grant is three dot-separated parts, eyJ…)');
      const json = await cli(['grant', 'verify', text, '--json'], { GREENLIGHT_HUB: hub.url });
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual({ valid: false, reason: 'malformed', grant: null });
    }
    const redeemed = await cli(['grant', 'redeem', 'not-a-jwt', '--json'], { GREENLIGHT_HUB: hub.url });
    expect(redeemed.code).toBe(1);
    expect(JSON.parse(redeemed.stderr)).toEqual({ error: { code: 'GRANT_INVALID', message: 'This grant cannot be used (malformed): this is not a grant token (a grant is three dot-separated parts, eyJ…); check it was copied whole.' } });
  });

  it('revokes a grant by its id, after which it no longer verifies', async () => {
    const grant = await freshGrant();
    const verified = JSON.parse((await cli(['grant', 'verify', grant, '--json'], { GREENLIGHT_HUB: hub.url })).stdout) as { grant: { jti: string } };
    const revoked = await cli(['grant', 'revoke', verified.grant.jti], hub.as(dev));
    expect(revoked.code).toBe(0);
    expect(revoked.stdout.trim()).toBe(`revoked ${verified.grant.jti}`);
    const after = await cli(['grant', 'verify', grant], { GREENLIGHT_HUB: hub.url });
    expect(after.code).toBe(1);
    expect(after.stdout).toContain('it was revoked');
    const needsToken = await cli(['grant', 'revoke', verified.grant.jti], { GREENLIGHT_HUB: hub.url });
    expect(needsToken.code).toBe(2);
    expect(needsToken.stderr).toContain('no API token');
  });
});

describe('greenlight audit', () => {
  it('exports the log as CSV and JSON lines, to stdout or a file, with filters', async () => {
    const id = (await cli(['request', '--action', 'deploy', '--resource', 'ledger', '--env', 'production', '--reason', 'audit me'], hub.as(dev))).stdout.trim();
    expect((await cli(['decide', id, 'approve'], hub.as(sre))).code).toBe(0);

    const csv = await cli(['audit', 'export', '--format', 'csv', '--resource', 'ledger'], hub.admin);
    expect(csv.code).toBe(0);
    // Piped, the CLI passes the hub's bytes on, the byte order mark a spreadsheet needs included.
    expect(csv.stdout.startsWith('\uFEFFseq,')).toBe(true);
    const [header, ...rows] = csv.stdout.trim().split('\n');
    expect(header).toBe('seq,at,actor,type,requestId,action,resource,environment,outcome,data,hash');
    expect(rows.some((row) => row.includes(',dev,request.submitted,'))).toBe(true);
    expect(rows.some((row) => row.includes(',sre-1,request.approved,') || row.includes(',sre-1,request.vote,'))).toBe(true);
    // The console's outcome and search filters, from the command line too.
    const approvedOnly = await cli(['audit', 'export', '--resource', 'ledger', '--outcome', 'approved', '--q', 'LEDGER'], hub.admin);
    expect(approvedOnly.code, approvedOnly.stderr).toBe(0);
    const approvedEvents = approvedOnly.stdout.trim().split('\n').map((line) => JSON.parse(line) as { outcome: string; requestId: string });
    expect(approvedEvents.length).toBeGreaterThan(0);
    expect(approvedEvents.every((event) => event.outcome === 'approved' && event.requestId === id)).toBe(true);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-export-'));
    try {
      const file = path.join(dir, 'audit.jsonl');
      const toFile = await cli(['audit', 'export', '--actor', 'dev', '--output', file], hub.admin);
      expect(toFile.code).toBe(0);
      expect(toFile.stderr).toContain(`of jsonl to ${file}`);
      const events = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { actor: string });
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((event) => event.actor === 'dev')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const badDate = await cli(['audit', 'export', '--from', 'yesterday'], hub.admin);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--from:');
    const notAdmin = await cli(['audit', 'export'], hub.as(dev));
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toContain('(FORBIDDEN)');
  });

  it('verifies the chain through the hub, then offline; names the first edited event after tampering', async () => {
    const online = await cli(['audit', 'verify'], hub.admin);
    expect(online.code).toBe(0);
    expect(online.stdout).toMatch(/^audit log intact: \d+ events, every hash matches$/m);
    const json = await cli(['audit', 'verify', '--json'], hub.admin);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true });

    expect(await hub.stop()).toBe(0);

    const intact = await cli(['audit', 'verify', '--data-dir', hub.dataDir]);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain('audit log intact');

    const database = new BetterSqlite3(path.join(hub.dataDir, 'greenlight.db'));
    try {
      expect(database.prepare("update audit_events set actor='mallory' where seq=2").run().changes).toBe(1);
    } finally {
      database.close();
    }

    const broken = await cli(['audit', 'verify', '--data-dir', hub.dataDir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout.trim()).toBe('audit log BROKEN at event 2: event 2 was modified after it was written (1 events before it verified)');
    const brokenJson = await cli(['audit', 'verify', '--data-dir', hub.dataDir, '--json']);
    expect(brokenJson.code).toBe(1);
    expect(JSON.parse(brokenJson.stdout)).toMatchObject({ ok: false, brokenAt: 2, events: 1 });
  });

  it('refuses to verify a folder without a database instead of reporting an empty chain', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'greenlight-empty-'));
    try {
      const result = await cli(['audit', 'verify', '--data-dir', empty]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`no Greenlight database in ${empty}`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
