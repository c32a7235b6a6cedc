import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli } from './cli-harness.js';

// Every step is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

/** A port that nothing listens on: bound once by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

const token = { GREENLIGHT_TOKEN: 'glt_notarealtokenbutwellformed' };
const requestArgs = ['request', '--action', 'deploy', '--resource', 'web', '--env', 'production', '--reason', 'x'];

describe('--help', () => {
  const commands = [
    [],
    ['hub'],
    ['user'],
    ['user', 'add'],
    ['user', 'list'],
    ['user', 'set'],
    ['user', 'disable'],
    ['user', 'enable'],
    ['request'],
    ['decide'],
    ['cancel'],
    ['claim'],
    ['release'],
    ['show'],
    ['list'],
    ['grant'],
    ['grant', 'verify'],
    ['grant', 'redeem'],
    ['grant', 'revoke'],
    ['audit'],
    ['audit', 'export'],
    ['audit', 'verify'],
    ['demo'],
  ];
  it.each(commands.map((words) => [words.join(' '), words] as const))('prints usage for `greenlight %s --help` and exits 0', async (_name, words) => {
    const result = await cli([...words, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: greenlight${words.length ? ` ${words.join(' ')}` : ''}`);
    expect(result.stderr).toBe('');
  });

  it('documents deciding for an approver one stands in for', async () => {
    const result = await cli(['decide', '--help']);
    expect(result.stdout.replace(/\s+/g, ' ')).toContain("--for <user> decide as this approver's delegate");
  });

  it('documents the exit statuses of request --wait', async () => {
    const result = await cli(['request', '--help']);
    expect(result.stdout.replace(/\s+/g, ' ')).toContain('exit 0 approved (grant token on stdout), 3 denied, 4 expired or cancelled, 5 timed out');
  });
});

describe('usage errors exit 2 with a clear message and never reach the hub', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown flag', [...requestArgs, '--bogus'], /unknown option '--bogus'/],
    ['a missing required flag', ['request', '--action', 'deploy'], /required option '--resource <resource>' not specified/],
    ['a risk outside the list', [...requestArgs, '--risk', 'extreme'], /--risk.+Allowed choices are low, medium, high, critical/],
    ['a timeout that is not a duration', [...requestArgs, '--wait', '--timeout', 'soon'], /--timeout: "soon" is not a duration/],
    ['an environment with spaces', ['request', '--action', 'deploy', '--resource', 'web', '--env', 'prod env', '--reason', 'x'], /--env: use letters, digits/],
    ['a link without a title', [...requestArgs, '--link', 'https://example.com'], /--link expects title=url/],
    ['a link that is not http', [...requestArgs, '--link', 'PR=ftp://example.com'], /--link: must be an http/],
    ['a missing diff file', [...requestArgs, '--diff-file', '/nonexistent/change.diff'], /cannot read --diff-file \/nonexistent\/change.diff/],
    ['a decision that is neither approve nor deny', ['decide', 'req_1', 'maybe'], /Allowed choices are approve, deny/],
    ['a --for that is no user name', ['decide', 'req_1', 'approve', '--for', 'bob smith'], /^error: --for: use letters, digits and \. _ @ - only$/m],
    ['an empty --for', ['decide', 'req_1', 'approve', '--for', ''], /^error: --for: must not be empty/m],
    ['a request id with odd characters', ['show', '../etc'], /^error: <id>: not a request id$/m],
    ['an unknown role', ['user', 'add', 'x', '--role', 'root'], /^error: --role: expected one of requester, approver, lead, admin$/m],
    ['no role at all', ['user', 'add', 'frank'], /^error: --role: give at least one: requester, approver, lead, admin$/m],
    ['a limit that is not a number', ['list', '--limit', 'many'], /^error: --limit: expected a number$/m],
    ['a limit below one', ['list', '--limit', '0'], /^error: --limit: at least 1$/m],
    ['an empty idempotency key', [...requestArgs, '--idempotency-key', ''], /^error: --idempotency-key: must not be empty$/m],
    ['a user name with spaces', ['user', 'disable', 'bad name'], /^error: <name>: use letters, digits/m],
    ['an unknown command', ['deploy'], /unknown command 'deploy'/],
    ['a non-numeric port', ['hub', '--port', 'abc'], /--port:/],
    ['a hub URL that is not http', [...requestArgs, '--hub', 'ftp://hub'], /--hub: must be an http/],
  ];
  it.each(cases)('%s', async (_what, args, message) => {
    const result = await cli(args, token);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it("never shows zod's own wording about types, whatever the command", async () => {
    const bad: string[][] = [
      ['user', 'add', 'frank'],
      ['user', 'add', 'frank', '--role', 'root'],
      ['user', 'add', 'frank', '--role', 'approver', '--group', ''],
      ['user', 'disable', ''],
      ['list', '--limit', 'x'],
      ['list', '--limit', '100000'],
      ['decide', 'req_1', 'approve', '--comment', 'x'.repeat(5000)],
      ['show', ''],
      ['audit', 'export', '--from', 'yesterday'],
      ['audit', 'verify', '--data-dir', ''],
      ['grant', 'verify', ''],
      ['grant', 'revoke', ''],
      ['hub', '--port', ''],
      ['hub', '--log-level', 'loud'],
      [...requestArgs, '--idempotency-key', ''],
      [...requestArgs, '--summary', 'x'.repeat(100_000)],
      ['request', '--action', '', '--resource', 'web', '--env', 'production', '--reason', 'x'],
    ];
    for (const args of bad) {
      const result = await cli(args, token);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^error: /);
      expect(result.stderr, args.join(' ')).not.toMatch(/Invalid input|Invalid option|expected (array|string|number), received|received (undefined|NaN)|Too (small|big)/);
    }
  });

  it('with --json prints every error as {"error":{code,message}} on stderr, with the same exit status', async () => {
    const hub = `http://127.0.0.1:${await closedPort()}`;
    const cases: [string[], number, string, RegExp][] = [
      [['user', 'add', 'frank', '--json'], 2, 'USAGE', /^--role: give at least one/],
      [[...requestArgs, '--bogus', '--json'], 2, 'USAGE', /^unknown option '--bogus'/],
      [['decide', 'req_1', 'maybe', '--json'], 2, 'USAGE', /Allowed choices are approve, deny/],
      [['show', 'req_1', '--json', '--hub', hub], 2, 'UNREACHABLE', /^cannot reach the hub at /],
      [['grant', 'verify', 'a.b.c', '--json', '--hub', hub], 2, 'UNREACHABLE', /^cannot reach the hub at /],
      [['list', '--json'], 2, 'USAGE', /^no API token/],
      [['hub', '--json'], 2, 'USAGE', /^unknown option '--json'/],
    ];
    for (const [args, code, errorCode, message] of cases) {
      const env = args.includes('--hub') ? token : {};
      const result = await cli(args, env);
      expect(result.code, args.join(' ')).toBe(code);
      expect(result.stdout, args.join(' ')).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      const printed = JSON.parse(lines[0] ?? '') as { error: { code: string; message: string } };
      expect(printed.error.code, args.join(' ')).toBe(errorCode);
      expect(printed.error.message, args.join(' ')).toMatch(message);
    }
  });

  it('asks for a token when none is given', async () => {
    const result = await cli(requestArgs);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: no API token: pass --token or set GREENLIGHT_TOKEN');
  });
});

describe('an unreachable hub', () => {
  it('exits 2 naming the URL and the reason; a request, tried again until its --timeout (a hub restarting), says nothing was submitted', async () => {
    const hub = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [[...requestArgs, '--wait', '--timeout', '2s'], ['audit', 'verify'], ['grant', 'verify', 'a.b.c']]) {
      const result = await cli([...args, '--hub', hub], token);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^error: cannot reach the hub at ${hub.replace(/\./g, '\\.')}: .*ECONNREFUSED`, 'm'));
      if (args[0] === 'request') expect(result.stderr).toMatch(/; retrying\n[^]*; nothing was submitted$/m);
    }
  });

  it('takes the hub from GREENLIGHT_HUB', async () => {
    const hub = `http://127.0.0.1:${await closedPort()}`;
    const result = await cli(['show', 'req_1'], { ...token, GREENLIGHT_HUB: hub });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`cannot reach the hub at ${hub}`);
  });
});

describe('greenlight hub startup errors', () => {
  let dir: string;
  let blocker: Server;
  let blockedPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-hub-errors-'));
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    blockedPort = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 2 with one line when the policy file is invalid', async () => {
    const policy = path.join(dir, 'bad-policy.yaml');
    writeFileSync(policy, 'rules:\n  - name: lonely\n');
    const result = await cli(['hub', '--port', '0', '--data-dir', path.join(dir, 'a'), '--policy', policy]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: cannot start the hub: .*bad-policy\.yaml.*approvers/);
  });

  it('exits 2 when the policy file does not exist', async () => {
    const result = await cli(['hub', '--port', '0', '--data-dir', path.join(dir, 'b'), '--policy', path.join(dir, 'missing.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`error: cannot read the policy file ${path.join(dir, 'missing.yaml')}`);
  });

  it('exits 2 when --database-listen-url comes without --database-url', async () => {
    const result = await cli(['hub', '--port', '0', '--data-dir', path.join(dir, 'd'), '--database-listen-url', 'postgres://db.internal/greenlight']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('error: --database-listen-url is for hubs on PostgreSQL: give --database-url too');
  });

  it('exits 2 naming the port when it is already in use', async () => {
    const result = await cli(['hub', '--port', String(blockedPort), '--data-dir', path.join(dir, 'c'), '--log-level', 'silent'], {
      GREENLIGHT_ADMIN_TOKEN: 'glt_abcdefghijklmnopqrstuvwxyz0123',
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`error: cannot start the hub: port ${blockedPort} on 127.0.0.1 is already in use; stop the other process or pick another --port`);
  });
});
