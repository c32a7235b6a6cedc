import { formatDuration, type GreenlightRequest } from '../../protocol/index.js';
import { CliError, EXIT } from './cli-error.js';
import type { CliHttp } from './http.js';
import { note, out, printJson, statusLine, type Io } from './output.js';
import { exitCodeForStatus, waitForDecision } from './wait.js';

/** A submission not waited for: its id on stdout (or the request as JSON), its state on stderr. */
export function reportSubmitted(io: Io, submitted: GreenlightRequest, json: boolean, detail = ''): number {
  if (json) printJson(io, submitted);
  else out(io, submitted.id);
  note(io, `${statusLine(submitted)}${detail}`);
  return EXIT.ok;
}

/**
 * Waits for the decision until `deadline` (ms since the epoch; by default `timeout` seconds from now,
 * less when submitting took part of it), then reports it; a request still pending exits with
 * EXIT.timedOut, whether or not the hub could be reached at the end.
 */
export async function waitAndReport(
  io: Io,
  http: Pick<CliHttp, 'call'>,
  submitted: GreenlightRequest,
  flags: { timeout: number; json: boolean; deadline?: number },
  detail = '',
): Promise<number> {
  const leftSeconds = Math.max(0, ((flags.deadline ?? Date.now() + flags.timeout * 1000) - Date.now()) / 1000);
  const { request: final, unreachableAtEnd } = await withInterruptNote(io, submitted.id, () => {
    // Announced only once Ctrl-C is handled, so whoever reads this line can interrupt safely.
    if (submitted.status === 'pending') note(io, `${statusLine(submitted)}${detail}; waiting up to ${formatDuration(leftSeconds)}`);
    return waitForDecision(http, submitted, { timeoutSeconds: leftSeconds, io });
  });
  if (final.status === 'pending') {
    if (flags.json) printJson(io, final);
    note(io, `timed out after ${formatDuration(flags.timeout)}: ${statusLine(final)}; it can still be approved (greenlight cancel ${final.id} withdraws it)`);
    if (unreachableAtEnd) note(io, `the hub could not be reached at the end: ${unreachableAtEnd.message}; the state above is the last it reported`);
    return EXIT.timedOut;
  }
  return reportDecided(io, final, flags.json);
}

/** The requester's view of the outcome: the grant token on stdout is what pipelines capture. */
export function reportDecided(io: Io, request: GreenlightRequest, json: boolean): number {
  const code = exitCodeForStatus(request.status);
  if (json) printJson(io, request);
  if (request.status === 'approved') {
    const grant = request.grant;
    // An earlier approval handed back for the same idempotency key may have a grant that is spent.
    // The hub's word on it, not this machine's clock, which may be off.
    const spent = grant && grant.status !== 'active' ? grant.status : null;
    if (grant && spent) {
      note(io, `${statusLine(request)}, but its grant ${grant.jti} is ${spent} and can no longer be used; submit again with a new idempotency key`);
      return EXIT.expired;
    }
    const token = grant?.token;
    if (!token) throw new CliError(`${request.id} was approved but the hub sent no grant token; is the token you used the requester's?`, { exitCode: EXIT.failed });
    if (!json) out(io, token);
    const from = request.grant?.notBefore && request.grant.notBefore > request.grant.issuedAt ? ` from ${request.grant.notBefore}` : '';
    note(io, `${statusLine(request)}; grant ${request.grant?.jti ?? ''} valid${from} until ${request.grant?.expiresAt ?? '?'}`);
  } else {
    note(io, statusLine(request));
  }
  return code;
}

/** Ctrl-C stops the wait, not the request: say so, and how to withdraw it. */
export async function withInterruptNote<T>(io: Io, id: string, work: () => Promise<T>): Promise<T> {
  const onInterrupt = () => {
    note(io, `stopped waiting; ${id} is still pending (greenlight cancel ${id} withdraws it)`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
