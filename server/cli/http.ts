import type { z } from 'zod';
import { HubHttp, HubHttpError, LIMITS, formatDuration, type CallOptions, type HttpMethod, type Query } from '../../protocol/index.js';
import { CliError, EXIT } from './cli-error.js';
import { DOWNLOAD_LIMITS, idleGuarded, type DownloadLimits } from './download-limits.js';

/**
 * A hub error code maps to an exit status: input the hub refused is a usage error, and so is a hub
 * too busy to answer (as one it cannot reach is); the rest a failure. An idempotency key reused for
 * a different request is the caller's mistake too: nothing was submitted.
 */
function exitCodeFor(code: string): number {
  if (code === 'INVALID_INPUT' || code === 'PAYLOAD_TOO_LARGE' || code === 'IDEMPOTENCY_MISMATCH') return EXIT.usage;
  // Not a refusal: the hub is busy or without its database for a moment; trying again later may work.
  if (code === 'UNAVAILABLE' || code === 'RATE_LIMITED' || code === 'TIMEOUT') return EXIT.usage;
  return EXIT.failed;
}

/** The shared HTTP client's failures in the CLI's words, with the exit status a pipeline branches on. */
function asCliError(error: unknown, baseUrl: string): unknown {
  if (!(error instanceof HubHttpError)) return error;
  const { failure } = error;
  switch (failure.kind) {
    case 'refused':
      return new CliError(error.message, { code: error.code, exitCode: exitCodeFor(error.code) });
    case 'unreachable':
      return new CliError(`cannot reach the hub at ${baseUrl}: ${failure.reason}`, { exitCode: EXIT.usage, localCode: 'UNREACHABLE', neverSent: failure.neverSent, noSuchHost: failure.noSuchHost });
    case 'unavailable':
      return new CliError(`the hub at ${baseUrl} is unavailable (HTTP ${failure.status}); it may be restarting`, { exitCode: EXIT.usage, localCode: 'UNREACHABLE' });
    case 'not-greenlight':
      return new CliError(`the hub at ${baseUrl} answered HTTP ${failure.status} ${failure.statusText} without a Greenlight error; is this the hub's address?`, { exitCode: EXIT.usage, localCode: 'BAD_ANSWER' });
    case 'bad-answer':
      return new CliError(`the hub at ${baseUrl} sent an answer this CLI does not understand (${failure.problem}); are the CLI and hub the same version?`, { exitCode: EXIT.failed, localCode: 'BAD_ANSWER' });
  }
}

/** The CLI's view of the shared hub client: a fixed hub and token, a 30 s default timeout, CliErrors. */
export class CliHttp {
  readonly baseUrl: string;
  private readonly hub: HubHttp;

  constructor(
    baseUrl: string,
    token: string | undefined,
    fetchImpl: typeof fetch = fetch,
    private readonly downloads: DownloadLimits = DOWNLOAD_LIMITS,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.hub = new HubHttp({ fetch: (url, init) => fetchImpl(url, init), session: () => ({ hubUrl: this.baseUrl, token }), timeoutMs: 30_000 });
  }

  /** Calls the API and validates the JSON answer; `raw` is the body as sent, for `--json`. */
  async call<S extends z.ZodType>(method: HttpMethod, path: string, schema: S, options: CallOptions = {}): Promise<{ data: z.infer<S>; raw: unknown }> {
    this.checkBodySize(method, options.body);
    return this.hub.call(method, path, schema, options).catch((error: unknown) => Promise.reject(asCliError(error, this.baseUrl)));
  }

  /**
   * For downloads: the successful response with its body unread. No limit on the whole, which a long
   * export still arriving would outlast; the hub has `answerMs` to start answering, then `idleMs` between bytes.
   */
  async stream(path: string, query: Query = {}, method: 'GET' | 'POST' = 'GET'): Promise<Response> {
    const connection = new AbortController();
    const answer = setTimeout(() => connection.abort(new DOMException('no answer in time', 'TimeoutError')), this.downloads.answerMs);
    let response: Response;
    try {
      response = await this.hub.send(method, path, { query, signal: connection.signal });
    } catch (error) {
      throw asCliError(error, this.baseUrl);
    } finally {
      clearTimeout(answer);
    }
    if (!response.body) return response;
    const { idleMs } = this.downloads;
    const stalled = () =>
      new CliError(`the hub at ${this.baseUrl} sent nothing for ${formatDuration(idleMs / 1000)} in the middle of the download, which stopped there; try again`, {
        exitCode: EXIT.usage,
        localCode: 'UNREACHABLE',
      });
    const body = idleGuarded(response.body, idleMs, stalled, (reason) => connection.abort(reason));
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  private checkBodySize(method: HttpMethod, body: unknown): void {
    if (method === 'GET') return;
    const bytes = Buffer.byteLength(JSON.stringify(body ?? {}));
    if (bytes > LIMITS.bodyBytes) {
      throw new CliError(`the request body is ${Math.round(bytes / 1024 / 1024)} MB, above the hub's limit; attach a link instead of the full text`, { exitCode: EXIT.usage });
    }
  }
}
