import { GreenlightError, wireErrorSchema, type ErrorCode } from './errors.js';

/** Why a call to the hub's HTTP API failed, for clients that say it in their own words (the CLI's exit statuses). */
export type HubHttpFailure =
  /** The hub answered with its own `{error: {code, message}}`. */
  | { kind: 'refused' }
  /**
   * No answer: connection refused, reset, DNS, or no answer in time. `neverSent` only where no
   * connection was ever made (refused, no such host, no route), so the request surely did not leave;
   * `noSuchHost` where the hub's name does not resolve at all (ENOTFOUND), which is more often a
   * wrong address than a hub on its way back.
   */
  | { kind: 'unreachable'; reason: string; neverSent: boolean; noSuchHost: boolean }
  /** 502/503/504 from something in front of the hub (it may be restarting). */
  | { kind: 'unavailable'; status: number }
  /** An HTTP error that is not a Greenlight error: likely not the hub's address. */
  | { kind: 'not-greenlight'; status: number; statusText: string }
  /** A success whose body is not JSON, or not the shape this client expects. */
  | { kind: 'bad-answer'; problem: string };

export class HubHttpError extends GreenlightError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly failure: HubHttpFailure,
  ) {
    super(code, message, { noAnswer: failure.kind === 'unreachable', neverSent: failure.kind === 'unreachable' && failure.neverSent });
  }
}

/** Why fetch failed, in words: undici hides the socket error in `cause`. */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'no answer in time';
    const cause: unknown = error.cause;
    if (cause instanceof Error && cause.message) return cause.message;
    if (error.message) return error.message;
  }
  return String(error);
}

/** Node's codes for a connection that was never made: whatever was to be sent, was not. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The socket error's code behind a failed fetch (undici keeps it in `cause`). */
function socketCode(error: unknown): string | undefined {
  const code: unknown = error instanceof Error && error.cause instanceof Error ? (error.cause as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

export const unreachable = (hubUrl: string, error: unknown): HubHttpError => {
  const reason = reasonOf(error);
  const code = socketCode(error);
  return new HubHttpError('UNAVAILABLE', `Cannot reach the hub at ${hubUrl}: ${reason}`, {
    kind: 'unreachable',
    reason,
    neverSent: code !== undefined && NEVER_CONNECTED.has(code),
    noSuchHost: code === 'ENOTFOUND',
  });
};

export const badAnswer = (hubUrl: string, problem: string): HubHttpError =>
  new HubHttpError('INTERNAL', `The hub at ${hubUrl} sent an answer this client does not understand (${problem}); are the client and hub the same version?`, { kind: 'bad-answer', problem });

/** The error an unsuccessful answer stands for: the hub's own when it sent one, else one named after the status. */
export async function errorOfAnswer(hubUrl: string, response: Response): Promise<HubHttpError> {
  const text = await response.text().catch(() => '');
  let body: unknown = null;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    // Not JSON: a proxy's error page, or something that is not a Greenlight hub.
  }
  const wire = wireErrorSchema.safeParse((body as { error?: unknown } | null)?.error);
  if (wire.success) return new HubHttpError(wire.data.code, wire.data.message, { kind: 'refused' });
  const { status, statusText } = response;
  if (status === 502 || status === 503 || status === 504) {
    return new HubHttpError('UNAVAILABLE', `The hub at ${hubUrl} is unavailable (HTTP ${status}); it may be restarting.`, { kind: 'unavailable', status });
  }
  const code: ErrorCode = status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : 'INTERNAL';
  return new HubHttpError(code, `The hub answered ${status} ${statusText}`.trimEnd(), { kind: 'not-greenlight', status, statusText });
}
