import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from './main.js';
import type { Io } from './output.js';

let answer: unknown = null;
const newerHub = createServer((_, outgoing) => {
  outgoing.setHeader('content-type', 'application/json');
  outgoing.end(JSON.stringify(answer));
});
afterEach(() => new Promise((resolve) => newerHub.close(resolve)));

async function verifyAgainst(body: unknown): Promise<{ code: number; out: string }> {
  answer = body;
  await new Promise<void>((resolve) => newerHub.listen(0, '127.0.0.1', resolve));
  let out = '';
  const stdout = new PassThrough();
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const io: Io = { stdout, stderr: new PassThrough(), env: {} };
  const code = await run(['audit', 'verify', '--hub', `http://127.0.0.1:${(newerHub.address() as AddressInfo).port}`, '--token', 'glt_admin'], io);
  return { code, out };
}

describe('audit verify against a newer hub (a stand-in answering as one would)', () => {
  it('shows a finding about a table this CLI does not know, and fails', async () => {
    const { code, out } = await verifyAgainst({
      ok: false,
      events: 40,
      brokenAt: 0,
      kind: 'state',
      problem: '1 row disagrees with the log',
      findings: [{ reason: 'state_overridden', table: 'approval_rules', requestId: null, problem: 'rule "prod" was changed by hand' }],
      findingsTotal: 1,
    });
    expect(code).toBe(1);
    expect(out).toContain('the database DISAGREES with it: 1 row disagrees with the log');
    expect(out).toContain('state_overridden: rule "prod" was changed by hand');
  });

  it('says a state answer it cannot read is not understood, rather than a break at event 0', async () => {
    const { code, out } = await verifyAgainst({ ok: false, events: 40, brokenAt: 0, kind: 'state', problem: 'rows disagree', findings: [{ table: 'users' }], findingsTotal: 1 });
    expect(code).toBe(1);
    expect(out).not.toContain('BROKEN at event 0');
  });

  it('shows a kind of break this CLI does not know, and fails', async () => {
    const { code, out } = await verifyAgainst({ ok: false, events: 12, brokenAt: 7, kind: 'forked', problem: 'event 7 has two successors' });
    expect(code).toBe(1);
    expect(out).toContain('audit log BROKEN at event 7: event 7 has two successors');
  });
});
