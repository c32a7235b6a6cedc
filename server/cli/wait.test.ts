import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { GreenlightRequest } from '../../protocol/index.js';
import { CliError, EXIT } from './cli-error.js';
import type { CliHttp } from './http.js';
import type { Io } from './output.js';
import { exitCodeForStatus, waitForDecision } from './wait.js';

function request(status: GreenlightRequest['status']): GreenlightRequest {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    id: 'req_1', action: 'deploy', resource: 'api', environment: 'production', requester: 'dev', reason: 'x', risk: 'medium', context: {},
    requestedTtlSeconds: null, status, version: 1,
    rule: { name: 'prod', approvers: ['sre'], minApprovals: 1, allowSelfApproval: false, escalation: [], expireAfterSeconds: null, grantTtlSeconds: 900, claimHoldsSeconds: 600, autoApprove: false },
    eligibleGroups: ['sre'], eligibleUsers: [], escalationLevel: 0, nextEscalationAt: null, expiresAt: null, claim: null, decisions: [], approvals: 0,
    grant: null, timeline: [], createdAt: at, updatedAt: at, decidedAt: null, decidedBy: null,
  };
}

type Step = { answer: GreenlightRequest; takesMs: number } | { fail: CliError; takesMs: number };

/** A hub stand-in driven by a script of answers, on a clock the test controls. */
function scriptedHub(steps: Step[]) {
  let clock = 0;
  const polls: number[] = [];
  const stderr = new PassThrough();
  let written = '';
  stderr.on('data', (chunk: Buffer) => (written += chunk.toString()));
  const io: Io = { stdout: new PassThrough(), stderr, env: {} };
  const http: Pick<CliHttp, 'call'> = {
    call: async <S extends z.ZodType>(_method: 'GET' | 'POST', _path: string, schema: S, options?: { query?: Record<string, string | number | undefined> }) => {
      polls.push(Number(options?.query?.timeoutSeconds));
      const step = steps.shift();
      if (!step) throw new Error('the script ran out');
      clock += step.takesMs;
      if ('fail' in step) throw step.fail;
      return { data: schema.parse(step.answer) as z.infer<S>, raw: step.answer };
    },
  };
  const options = { io, now: () => clock, sleep: async (ms: number) => void (clock += ms) };
  return { http, options, polls, notes: () => written };
}

const unreachable = () => new CliError('cannot reach the hub at http://hub: connect ECONNREFUSED', { exitCode: EXIT.usage });

describe('waitForDecision', () => {
  it('polls in slices of at most 30 seconds until the request is decided', async () => {
    const hub = scriptedHub([{ answer: request('pending'), takesMs: 30_000 }, { answer: request('pending'), takesMs: 30_000 }, { answer: request('denied'), takesMs: 5_000 }]);
    const { request: final } = await waitForDecision(hub.http, request('pending'), { timeoutSeconds: 600, ...hub.options });
    expect(final.status).toBe('denied');
    expect(hub.polls).toEqual([30, 30, 30]);
  });

  it('asks only for the time left and returns the pending request at the timeout', async () => {
    const hub = scriptedHub([{ answer: request('pending'), takesMs: 30_000 }, { answer: request('pending'), takesMs: 15_000 }]);
    const { request: final, unreachableAtEnd } = await waitForDecision(hub.http, request('pending'), { timeoutSeconds: 45, ...hub.options });
    expect(final.status).toBe('pending');
    expect(unreachableAtEnd).toBeNull();
    expect(hub.polls).toEqual([30, 15]);
  });

  it('retries a lost connection with backoff and says so once', async () => {
    const hub = scriptedHub([
      { fail: unreachable(), takesMs: 1 },
      { fail: unreachable(), takesMs: 1 },
      { answer: request('approved'), takesMs: 10 },
    ]);
    const { request: final } = await waitForDecision(hub.http, request('pending'), { timeoutSeconds: 60, ...hub.options });
    expect(final.status).toBe('approved');
    expect(hub.notes().match(/retrying until the timeout/g)).toHaveLength(1);
    expect(hub.notes()).toContain('reconnected to the hub');
  });

  it('retries RATE_LIMITED from the hub but not a refusal', async () => {
    const limited = scriptedHub([{ fail: new CliError('slow down', { code: 'RATE_LIMITED' }), takesMs: 1 }, { answer: request('expired'), takesMs: 1 }]);
    expect((await waitForDecision(limited.http, request('pending'), { timeoutSeconds: 60, ...limited.options })).request.status).toBe('expired');

    const refused = scriptedHub([{ fail: new CliError('who are you', { code: 'UNAUTHENTICATED' }), takesMs: 1 }]);
    await expect(waitForDecision(refused.http, request('pending'), { timeoutSeconds: 60, ...refused.options })).rejects.toThrow('who are you');
  });

  it('a hub still away when the timeout passes is a timeout: the request as last heard, and why the hub could not be reached', async () => {
    const hub = scriptedHub(Array.from({ length: 50 }, () => ({ fail: unreachable(), takesMs: 100 })));
    const outcome = await waitForDecision(hub.http, request('pending'), { timeoutSeconds: 10, ...hub.options });
    expect(outcome.request.status).toBe('pending');
    expect(outcome.unreachableAtEnd?.message).toContain('ECONNREFUSED');
    expect(hub.options.now()).toBeLessThanOrEqual(10_100);
  });

  it('a hub that was away but answered again before the timeout leaves nothing to explain', async () => {
    const hub = scriptedHub([{ fail: unreachable(), takesMs: 1 }, ...Array.from({ length: 5 }, () => ({ answer: request('pending'), takesMs: 5_000 }))]);
    expect((await waitForDecision(hub.http, request('pending'), { timeoutSeconds: 10, ...hub.options })).unreachableAtEnd).toBeNull();
  });

  it('pauses when the hub answers pending early instead of hammering it', async () => {
    const hub = scriptedHub([{ answer: request('pending'), takesMs: 5 }, { answer: request('pending'), takesMs: 5 }, { answer: request('cancelled'), takesMs: 5 }]);
    const { request: final } = await waitForDecision(hub.http, request('pending'), { timeoutSeconds: 60, ...hub.options });
    expect(final.status).toBe('cancelled');
    expect(hub.polls).toHaveLength(3);
    expect(hub.options.now()).toBeGreaterThanOrEqual(2 * 1_000);
  });

  it('does not poll at all for a request that is already decided', async () => {
    const hub = scriptedHub([]);
    expect((await waitForDecision(hub.http, request('approved'), { timeoutSeconds: 60, ...hub.options })).request.status).toBe('approved');
    expect(hub.polls).toEqual([]);
  });
});

describe('exitCodeForStatus', () => {
  it('maps each outcome to the documented exit status', () => {
    expect(['approved', 'denied', 'expired', 'cancelled', 'pending'].map((status) => exitCodeForStatus(status as GreenlightRequest['status']))).toEqual([0, 3, 4, 4, 5]);
  });
});
