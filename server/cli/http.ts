import { z } from 'zod';
import { LIMITS, describeZodError } from '../../protocol/index.js';
import { CliError, EXIT } from './cli-error.js';

const wireErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

type Query = Record<string, string | number | undefined>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface CallOptions {
  body?: unknown;
  query?: Query;
  /** Long polls pass a limit above their server-side wait; everything else uses the default. */
  timeoutMs?: number;
}

/** Why fetch failed, in words: undici hides the socket error in `cause`. */
function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'no answer in time';
    const cause: unknown = error.cause;
    if (cause instanceof Error && cause.message) return cause.message;
    if (error.message) return error.message;
  }
  return String(error);
}

/** A hub error code maps to an exit status: input the hub refused is a usage error, the rest a failure. */
function exitCodeFor(code: string): number {
  return code === 'INVALID_INPUT' || code === 'PAYLOAD_TOO_LARGE' ? EXIT.usage : EXIT.failed;
}

/** A small typed wrapper over fetch for the hub's HTTP API. */
export class HubHttp {
  readonly baseUrl: string;
  private readonly token: string | undefined;

  constructor(baseUrl: string, token: string | undefined) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.token = token;
  }

  /** Calls the API and validates the JSON answer; `raw` is the body as sent, for `--json`. */
  async call<S extends z.ZodType>(method: Method, path: string, schema: S, options: CallOptions = {}): Promise<{ data: z.infer<S>; raw: unknown }> {
    const response = await this.send(method, path, options);
    const raw = await this.readJson(response);
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new CliError(`the hub at ${this.baseUrl} sent an answer this CLI does not understand (${describeZodError(parsed.error)}); are the CLI and hub the same version?`, { exitCode: EXIT.failed, localCode: 'BAD_ANSWER' });
    }
    return { data: parsed.data, raw };
  }

  /** For downloads: the successful response with its body unread. */
  async stream(path: string, query: Query = {}, method: 'GET' | 'POST' = 'GET'): Promise<Response> {
    return this.send(method, path, { query, timeoutMs: 10 * 60_000 });
  }

  private url(path: string, query: Query = {}): string {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.href;
  }

  private async send(method: Method, path: string, options: CallOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (method === 'POST' || method === 'PATCH') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body ?? {});
      if (Buffer.byteLength(body) > LIMITS.bodyBytes) {
        throw new CliError(`the request body is ${Math.round(Buffer.byteLength(body) / 1024 / 1024)} MB, above the hub's limit; attach a link instead of the full text`, { exitCode: EXIT.usage });
      }
    }
    let response: Response;
    try {
      response = await fetch(this.url(path, options.query), { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000) });
    } catch (error) {
      throw new CliError(`cannot reach the hub at ${this.baseUrl}: ${reasonOf(error)}`, { exitCode: EXIT.usage, localCode: 'UNREACHABLE' });
    }
    if (!response.ok) throw await this.errorFrom(response);
    return response;
  }

  private async readJson(response: Response): Promise<unknown> {
    try {
      return (await response.json()) as unknown;
    } catch (error) {
      throw new CliError(`the hub at ${this.baseUrl} sent a body that is not JSON: ${reasonOf(error)}`, { exitCode: EXIT.failed, localCode: 'BAD_ANSWER' });
    }
  }

  private async errorFrom(response: Response): Promise<CliError> {
    const text = await response.text().catch(() => '');
    let body: unknown = null;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // Not JSON: a proxy or something else that is not a Greenlight hub answered.
    }
    const wire = wireErrorBodySchema.safeParse(body);
    if (wire.success) {
      const { code, message } = wire.data.error;
      return new CliError(message, { code, exitCode: exitCodeFor(code) });
    }
    if (response.status === 502 || response.status === 503 || response.status === 504) {
      return new CliError(`the hub at ${this.baseUrl} is unavailable (HTTP ${response.status}); it may be restarting`, { exitCode: EXIT.usage, localCode: 'UNREACHABLE' });
    }
    return new CliError(`the hub at ${this.baseUrl} answered HTTP ${response.status} ${response.statusText} without a Greenlight error; is this the hub's address?`, { exitCode: EXIT.usage, localCode: 'BAD_ANSWER' });
  }
}
