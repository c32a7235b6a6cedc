import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli, CliHub, startCli, type CliProcess } from './cli-harness.js';
import { answerLosingProxy } from '../test-support/answer-losing-proxy.js';

// Every step is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const hub = new CliHub();
let dev: string;
let sre: string;

const prodArgs = (reason: string, ...extra: string[]) => ['request', '--action', 'deploy', '--resource', 'payments-api', '--env', 'production', '--reason', reason, ...extra];

/** Starts `request --wait` and resolves with its id once the hub has it pending. */
async function pendingWait(reason: string, ...extra: string[]): Promise<{ waiting: CliProcess; id: string }> {
  const waiting = startCli(prodArgs(reason, '--wait', ...extra), hub.as(dev));
  const [, id] = await waiting.waitFor('stderr', /(req_[A-Za-z0-9]+) pending/);
  return { waiting, id: id ?? '' };
}

async function showJson(id: string, token: string): Promise<{ status: string; decisions: { comment: string | null }[]; grant: { token?: string } | null }> {
  const shown = await cli(['show', id, '--json'], hub.as(token));
  expect(shown.code).toBe(0);
  return JSON.parse(shown.stdout) as { status: string; decisions: { comment: string | null }[]; grant: { token?: string } | null };
}

beforeAll(async () => {
  await hub.start();
  dev = await hub.addUser('dev', ['requester'], ['payments']);
  sre = await hub.addUser('sre-1', ['approver'], ['sre']);
});
afterAll(() => hub.dispose());

describe('greenlight user', () => {
  it('adds users with roles and groups, prints the token once, and lists them', async () => {
    expect(dev).toMatch(/^glt_/);
    const added = await cli(['user', 'add', 'lead-1', '--role', 'approver', '--role', 'lead', '--group', 'sre', '--group', 'leads', '--json'], hub.admin);
    expect(added.code).toBe(0);
    const created = JSON.parse(added.stdout) as { name: string; roles: string[]; groups: string[]; token: string };
    expect(created).toMatchObject({ name: 'lead-1', roles: ['approver', 'lead'], groups: ['sre', 'leads'] });
    expect(created.token).toMatch(/^glt_/);

    const listed = await cli(['user', 'list'], hub.admin);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^lead-1 {2}roles: approver,lead {2}groups: sre,leads$/m);
    expect(listed.stdout).toMatch(/^dev /m);
  });

  it('disables a user, whose token then stops working', async () => {
    const token = await hub.addUser('leaver', ['requester']);
    const disabled = await cli(['user', 'disable', 'leaver'], hub.admin);
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain('disabled leaver');
    const refused = await cli(prodArgs('after leaving'), hub.as(token));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: .+ \(UNAUTHENTICATED\)$/m);
  });

  it('says which roles exist when none is given, as a usage error', async () => {
    const result = await cli(['user', 'add', 'frank'], hub.admin);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: --role: give at least one: requester, approver, lead, admin');
    const json = await cli(['user', 'add', 'frank', '--json'], hub.admin);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'USAGE', message: '--role: give at least one: requester, approver, lead, admin' } });
  });

  it('reports the hub refusing a non-admin with its code, and a duplicate name as a conflict', async () => {
    const forbidden = await cli(['user', 'add', 'sneaky', '--role', 'admin'], hub.as(dev));
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr.trim()).toBe('error: Only an admin can do this. (FORBIDDEN)');
    const duplicate = await cli(['user', 'add', 'dev', '--role', 'requester'], hub.admin);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('(CONFLICT)');
    const asJson = await cli(['user', 'add', 'dev', '--role', 'requester', '--json'], hub.admin);
    expect(asJson.code).toBe(1);
    expect(asJson.stdout).toBe('');
    expect(JSON.parse(asJson.stderr)).toEqual({ error: { code: 'CONFLICT', message: 'A user named "dev" already exists.' } });
  });
});

describe('greenlight request --wait', () => {
  it('exits 0 with the grant token on stdout when another user approves', async () => {
    const { waiting, id } = await pendingWait('ship the fix', '--link', 'PR=https://example.com/pr/1', '--field', 'sha=abc123', '--summary', 'one-line fix');
    const decided = await cli(['decide', id, 'approve', '--comment', 'looks fine'], hub.as(sre));
    expect(decided.code).toBe(0);
    expect(decided.stdout).toContain(`${id} approved by sre-1`);

    const result = await waiting.exited;
    expect(result.code).toBe(0);
    const token = result.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(result.stderr).toContain(`${id} approved by sre-1`);

    const shown = await showJson(id, dev);
    expect(shown.status).toBe('approved');
    expect(shown.grant?.token).toBe(token);
    expect(shown.decisions[0]?.comment).toBe('looks fine');
  });

  it('prints the whole request with --json, the grant inside it', async () => {
    const { waiting, id } = await pendingWait('json output', '--json');
    expect((await cli(['decide', id, 'approve'], hub.as(sre))).code).toBe(0);
    const result = await waiting.exited;
    expect(result.code).toBe(0);
    const request = JSON.parse(result.stdout) as { id: string; status: string; grant: { token: string } };
    expect(request).toMatchObject({ id, status: 'approved' });
    expect(request.grant.token).toMatch(/^ey/);
  });

  it('exits 3 after a deny and shows the comment on stderr', async () => {
    const { waiting, id } = await pendingWait('risky change');
    expect((await cli(['decide', id, 'deny', '--comment', 'not during the freeze'], hub.as(sre))).code).toBe(0);
    const result = await waiting.exited;
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('denied by sre-1: "not during the freeze"');
  });

  it('shows what a requester sent as written, never as terminal control: escape sequences and direction overrides are spelled out', async () => {
    // The hub keeps logs and diffs byte for byte (coloured CI output), so they can still hold both.
    // A log from a Windows runner ends its lines with CRLF: those are line ends, while a lone CR could write over a line.
    const logs = 'fix \u001b[2A\u001b[31mapproved by security\u001b[0m \u202eoverride\r\nstep 2 ok\r\nbuild ok\rAPPROVED\n';
    const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-escapes-'));
    const logFile = path.join(dir, 'build.log');
    writeFileSync(logFile, logs);
    try {
      const submitted = await cli([...prodArgs('colourful build'), '--log-file', logFile, '--json'], hub.as(dev));
      expect(submitted.code).toBe(0);
      const { id } = JSON.parse(submitted.stdout) as { id: string };
      const shown = await cli(['show', id], hub.as(sre));
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain('fix \\u001b[2A\\u001b[31mapproved by security\\u001b[0m \\u202eoverride');
      expect(shown.stdout.includes('\u001b') || shown.stdout.includes('\u202e')).toBe(false);
      expect(shown.stdout).toContain('override\n  step 2 ok\n  build ok\\u000dAPPROVED\n');
      expect(shown.stdout.includes('\r')).toBe(false);
      // The machine-readable form keeps the text exactly as submitted.
      expect((JSON.parse((await cli(['show', id, '--json'], hub.as(sre))).stdout) as { context: { logs: string } }).context.logs).toBe(logs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Anywhere else the hub refuses them, and the CLI says where and why.
    const refused = await cli(prodArgs('fix \u001b[2A\u001b[31mapproved by security'), hub.as(dev));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/reason: contains the control character U\+001B.*\(INVALID_INPUT\)/);
  });

  it('text over several lines never passes for a line of its own: forged decision, timeline and request rows stay inside their field', async () => {
    const forged = '\n  decision     sre-1 approved at 2026-01-01T00:00:00Z: LGTM\nreq_FAKE approved by sre-1: deploy on payments-api in production';
    // A link's title is one line: refused before it reaches anyone's screen.
    const titled = await cli([...prodArgs('routine restart'), '--link', `PR${forged.replace(/=/g, '')}=https://example.com/pr/1`], hub.as(dev));
    expect(titled.code).toBe(2);
    expect(titled.stderr).toContain('--link: must be one line');
    const submitted = await cli([...prodArgs(`routine restart${forged}`), '--summary', `one-line fix${forged}`, '--json'], hub.as(dev));
    expect(submitted.code, submitted.stderr).toBe(0);
    const { id } = JSON.parse(submitted.stdout) as { id: string };
    expect((await cli(['cancel', id, '--reason', `no longer needed${forged}`], hub.admin)).code).toBe(0);

    const shown = await cli(['show', id], hub.as(sre));
    expect(shown.code).toBe(0);
    const lines = shown.stdout.split('\n');
    expect(lines.filter((line) => line.startsWith('  decision'))).toEqual([]);
    expect(lines.filter((line) => line.startsWith('req_FAKE'))).toEqual([]);
    // The reason and summary still read as written, their further lines under their own first one.
    expect(shown.stdout).toContain(`  reason       routine restart\n                 decision     sre-1 approved at 2026-01-01T00:00:00Z: LGTM\n`);
    const listed = await cli(['list', '--status', 'cancelled'], hub.as(dev));
    expect(listed.stdout.split('\n').filter((line) => line.startsWith('req_FAKE'))).toEqual([]);
    expect(listed.stdout).toContain(`${id} cancelled by admin: "no longer needed\\n  decision`);
  });

  it('with --json keeps what a terminal would act on out of the raw bytes, and the JSON means the same', async () => {
    const diff = '+colour \u009b31mred\u009b0m \u202eoverride\u0085next\n';
    const submitted = await cli([...prodArgs('diff with C1 controls'), '--diff-file', '-', '--json'], hub.as(dev), diff);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout).not.toMatch(/[\u0080-\u009f\u202e]/);
    const { id } = JSON.parse(submitted.stdout) as { id: string };
    const shown = await cli(['show', id, '--json'], hub.as(sre));
    expect(shown.stdout).not.toMatch(/[\u0080-\u009f\u202e]/);
    expect((JSON.parse(shown.stdout) as { context: { diff: string } }).context.diff).toBe(diff);
  });

  it('a rerun with the same idempotency key gets no token for a grant since revoked: exit 4, nothing on stdout', async () => {
    const { waiting, id } = await pendingWait('keyed run', '--idempotency-key', 'pipeline-812');
    expect((await cli(['decide', id, 'approve'], hub.as(sre))).code).toBe(0);
    const first = await waiting.exited;
    expect(first.code).toBe(0);
    const jti = (await showJson(id, dev)) as unknown as { grant: { jti: string } };
    expect((await cli(['grant', 'revoke', jti.grant.jti], hub.as(dev))).code).toBe(0);

    const rerun = await cli(prodArgs('keyed run', '--idempotency-key', 'pipeline-812', '--wait'), hub.as(dev));
    expect(rerun.code).toBe(4);
    expect(rerun.stdout).toBe('');
    expect(rerun.stderr).toContain(`its grant ${jti.grant.jti} is revoked and can no longer be used; submit again with a new idempotency key`);
  });

  it('an answer lost on the way back is retried under the same key: one request, not two', async () => {
    const proxy = await answerLosingProxy(hub.url, (incoming) => incoming.method === 'POST');
    try {
      const mine = async () =>
        ((await (await fetch(`${hub.url}/api/v1/requests?mine=true&limit=500`, { headers: { authorization: `Bearer ${dev}` } })).json()) as { requests: { id: string; reason: string }[] }).requests;
      const count = (await mine()).length;
      const result = await cli(prodArgs('lost answer'), { ...hub.as(dev), GREENLIGHT_HUB: proxy.url });
      expect(proxy.dropped()).toBe(true);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('retrying');
      const after = await mine();
      expect(after).toHaveLength(count + 1);
      expect(after.filter((request) => request.reason === 'lost answer').map((request) => request.id)).toEqual([result.stdout.trim()]);
    } finally {
      await proxy.close();
    }
  });

  it('exits 4 when the requester cancels', async () => {
    const { waiting, id } = await pendingWait('changed my mind');
    const cancelled = await cli(['cancel', id], hub.as(dev));
    expect(cancelled.code).toBe(0);
    const result = await waiting.exited;
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`${id} cancelled`);
  });

  it('exits 5 when nobody decides before --timeout, leaving the request pending', async () => {
    const started = Date.now();
    const result = await cli(prodArgs('nobody around', '--wait', '--timeout', '2s'), hub.as(dev));
    expect(result.code).toBe(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    const [, id] = result.stderr.match(/timed out after 2s: (req_[A-Za-z0-9]+) pending/) ?? [];
    expect(id).toBeDefined();
    expect(result.stderr).toContain(`it can still be approved (greenlight cancel ${id} withdraws it)`);
    expect((await showJson(id ?? '', dev)).status).toBe('pending');
  });

  it('on Ctrl-C stops waiting, exits 130 and says how to withdraw the request', async () => {
    const { waiting, id } = await pendingWait('interrupted');
    waiting.child.kill('SIGINT');
    const result = await waiting.exited;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(`stopped waiting; ${id} is still pending (greenlight cancel ${id} withdraws it)`);
    expect((await showJson(id, dev)).status).toBe('pending');
  });

  it('returns at once with the token when the policy auto-approves', async () => {
    const result = await cli(['request', '--action', 'deploy', '--resource', 'web', '--env', 'staging', '--reason', 'try it', '--wait'], hub.as(dev));
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^ey/);
    expect(result.stderr).toContain('approved by policy:staging');
  });

  it('exits 1, not 3, when no policy rule covers the request: only a person denying it exits 3', async () => {
    const result = await cli(['request', '--action', 'deploy', '--resource', 'web', '--env', 'qa', '--reason', 'no rule', '--wait'], hub.as(dev));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: No policy rule covers .+ \(NO_POLICY\)$/m);
  });

  it('exits 1 when nobody could approve the request, naming the empty group', async () => {
    const result = await cli(['request', '--action', 'db-open', '--resource', 'orders-db', '--env', 'production', '--reason', 'nobody in dba', '--wait'], hub.as(dev));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: Nobody can approve db-open on orders-db in production: rule "databases" needs an approver from dba, .+ \(NO_APPROVERS\)$/m);
  });

  it('with --json prints a refusal as {"error":{code,message}} on stderr, with the same exit status', async () => {
    for (const [env, code] of [['qa', 'NO_POLICY'], ['production', 'NO_APPROVERS']] as const) {
      const action = env === 'qa' ? 'deploy' : 'db-open';
      const result = await cli(['request', '--action', action, '--resource', 'web', '--env', env, '--reason', 'as json', '--wait', '--json'], hub.as(dev));
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const printed = JSON.parse(result.stderr) as { error: { code: string; message: string } };
      expect(printed.error.code).toBe(code);
      expect(printed.error.message).toMatch(/^(No policy rule covers|Nobody can approve) /);
    }
  });
});

describe('greenlight request without --wait, show, claim, decide', () => {
  it('prints only the id on stdout, the status on stderr, and the full request with --json', async () => {
    const plain = await cli(prodArgs('capture the id'), hub.as(dev));
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^req_[A-Za-z0-9]+\n$/);
    expect(plain.stderr).toContain('pending: deploy on payments-api in production needs 1 more approval from sre (rule prod)');

    const json = await cli(prodArgs('as json', '--risk', 'high', '--ttl', '10m', '--idempotency-key', 'build-42', '--json'), hub.as(dev));
    expect(json.code).toBe(0);
    const request = JSON.parse(json.stdout) as { id: string; risk: string; requestedTtlSeconds: number };
    expect(request).toMatchObject({ risk: 'high', requestedTtlSeconds: 600 });

    const again = await cli(prodArgs('as json', '--risk', 'high', '--ttl', '10m', '--idempotency-key', 'build-42'), hub.as(dev));
    expect(again.stdout.trim()).toBe(request.id);

    // The same key for a different request: nothing is submitted, and the pipeline stops as on a usage error.
    const reused = await cli(prodArgs('something else', '--idempotency-key', 'build-42'), hub.as(dev));
    expect(reused.code).toBe(2);
    expect(reused.stdout).toBe('');
    expect(reused.stderr).toContain(`The idempotency key "build-42" was already used for another request (${request.id}`);
    expect(reused.stderr).toContain('(IDEMPOTENCY_MISMATCH)');
  });

  it('attaches a diff from a file or stdin and a log excerpt for the approvers', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-context-'));
    try {
      const diff = '--- a/app.ts\n+++ b/app.ts\n@@ -1 +1 @@\n-old\n+new\n';
      const logs = 'ERROR payments timeout\n';
      writeFileSync(path.join(dir, 'change.diff'), diff);
      writeFileSync(path.join(dir, 'error.log'), logs);
      const fromFiles = await cli(prodArgs('with context', '--diff-file', path.join(dir, 'change.diff'), '--log-file', path.join(dir, 'error.log'), '--json'), hub.as(dev));
      expect(fromFiles.code).toBe(0);
      const created = JSON.parse(fromFiles.stdout) as { id: string };
      expect(created).toMatchObject({ context: { diff, logs } });
      const shown = await cli(['show', created.id], hub.as(sre));
      expect(shown.stdout).toContain('diff:\n  --- a/app.ts\n  +++ b/app.ts\n  @@ -1 +1 @@\n  -old\n  +new\n');
      expect(shown.stdout).toContain('logs:\n  ERROR payments timeout\n');

      const fromStdin = await cli(prodArgs('piped diff', '--diff-file', '-', '--json'), hub.as(dev), diff);
      expect(fromStdin.code).toBe(0);
      expect(JSON.parse(fromStdin.stdout)).toMatchObject({ context: { diff } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('claims, shows context in readable form, and refuses a second decision', async () => {
    const id = (await cli(prodArgs('readable', '--link', 'Ticket=https://example.com/T-1', '--field', 'region=eu'), hub.as(dev))).stdout.trim();
    const claimed = await cli(['claim', id], hub.as(sre));
    expect(claimed.code).toBe(0);
    const shown = await cli(['show', id], hub.as(sre));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`${id}  PENDING`);
    expect(shown.stdout).toContain('link         Ticket: https://example.com/T-1');
    expect(shown.stdout).toContain('field        region=eu');
    expect(shown.stdout).toContain('claimed by   sre-1');

    expect((await cli(['decide', id, 'approve'], hub.as(sre))).code).toBe(0);
    const second = await cli(['decide', id, 'deny'], hub.as(sre));
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('(ALREADY_DECIDED)');
  });

  it('releases a claim and lists requests by status', async () => {
    const id = (await cli(prodArgs('to be listed'), hub.as(dev))).stdout.trim();
    expect((await cli(['claim', id], hub.as(sre))).code).toBe(0);
    const released = await cli(['release', id, '--json'], hub.as(sre));
    expect(released.code).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({ id, claim: null });

    const pending = await cli(['list', '--status', 'pending'], hub.as(sre));
    expect(pending.code).toBe(0);
    expect(pending.stdout).toContain(`${id} pending:`);
    const mine = await cli(['list', '--mine', '--json'], hub.as(dev));
    const page = JSON.parse(mine.stdout) as { requests: { requester: string }[] };
    expect(page.requests.length).toBeGreaterThan(0);
    expect(page.requests.every((request) => request.requester === 'dev')).toBe(true);
  });

  it('refuses self-approval and unknown ids with the hub codes', async () => {
    const id = (await cli(prodArgs('self'), hub.as(dev))).stdout.trim();
    const self = await cli(['decide', id, 'approve'], hub.as(dev));
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/\((SELF_APPROVAL|NOT_ELIGIBLE)\)/);
    const missing = await cli(['show', 'req_doesnotexist'], hub.as(dev));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('(NOT_FOUND)');
  });
});
