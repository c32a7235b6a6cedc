import type { z } from 'zod';
import { auditPageSchema, type AuditPage } from './audit.js';
import { decisionReportSchema, type DecisionReport } from './report.js';
import { requestSchema, type ExtendInput, type GreenlightRequest } from './request.js';
import { setupStatusSchema, type SetupStatus } from './setup.js';
import { myChannelsSchema, type MyChannels } from './notifications.js';
import { policyExplanationSchema, type PolicyExplanation } from './policy-explain.js';
import { delegationListSchema, delegationSchema, type Delegation, type NewDelegation } from './delegation.js';
import { createdUserSchema, userListSchema, userSchema, type CreatedUser, type NewUser, type User, type UserUpdate } from './user.js';
import { createdTokenSchema, tokenListSchema, tokenSchema, type CreatedToken, type NewToken, type TokenInfo } from './token.js';
import { describeZodError } from './errors.js';
import { badAnswer, errorOfAnswer, unreachable } from './hub-http-error.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Where to call and as whom; read on every call, so a client signed in anew uses its new token. */
export interface HubSession {
  hubUrl: string;
  token?: string | undefined;
}

export interface HubHttpOptions {
  fetch: FetchLike;
  session: () => HubSession;
  /** Calls without their own `timeoutMs` give up after this long; none when unset. */
  timeoutMs?: number;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';
export type Query = Record<string, string | number | undefined>;

export interface CallOptions {
  /** Sent as JSON; a POST or PATCH without one sends `{}`. */
  body?: unknown;
  /** Added to the path's own query string; undefined values are left out. */
  query?: Query;
  timeoutMs?: number;
  /** The caller's own way to stop the call, in place of a timeout: a download may rightly outlast any fixed one. */
  signal?: AbortSignal;
}

/**
 * The hub's HTTP API for every client (the desktop app's main process, the web console, the CLI):
 * fetch is injected, answers are parsed with zod, and every failure is a HubHttpError, which is a
 * GreenlightError with the hub's stable code.
 */
export class HubHttp {
  constructor(private readonly options: HubHttpOptions) {}

  get hubUrl(): string {
    return baseOf(this.options.session().hubUrl);
  }

  /** The successful answer with its body unread (downloads); anything else throws. */
  async send(method: HttpMethod, path: string, options: CallOptions = {}): Promise<Response> {
    const { hubUrl, token } = this.options.session();
    const base = baseOf(hubUrl);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (method === 'POST' || method === 'PATCH') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body ?? {});
    }
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const signal = options.signal ?? (timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined);
    let response: Response;
    try {
      response = await this.options.fetch(urlOf(base, path, options.query), { method, headers, body, ...(signal ? { signal } : {}) });
    } catch (error) {
      throw unreachable(base, error);
    }
    if (!response.ok) throw await errorOfAnswer(base, response);
    return response;
  }

  /** Calls the API and parses the JSON answer; `raw` is the body as the hub sent it. */
  async call<S extends z.ZodType>(method: HttpMethod, path: string, schema: S, options: CallOptions = {}): Promise<{ data: z.infer<S>; raw: unknown }> {
    const response = await this.send(method, path, options);
    let raw: unknown;
    try {
      raw = (await response.json()) as unknown;
    } catch (error) {
      throw badAnswer(this.hubUrl, `not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw badAnswer(this.hubUrl, describeZodError(parsed.error));
    return { data: parsed.data, raw };
  }

  private async data<S extends z.ZodType>(method: HttpMethod, path: string, schema: S, options?: CallOptions): Promise<z.infer<S>> {
    return (await this.call(method, path, schema, options)).data;
  }

  audit(query: string): Promise<AuditPage> {
    return this.data('GET', `/api/v1/audit?${withFormat(query, 'json')}`, auditPageSchema);
  }

  /**
   * The export with its body unread, to be streamed to where it is kept: it can run to hundreds of
   * megabytes, more than one JavaScript string holds. The CSV's bytes start with a byte order mark,
   * which the saved file needs for spreadsheets, so read them as bytes, not as text.
   */
  async exportAudit(query: string, format: 'csv' | 'jsonl'): Promise<AuditExportDownload> {
    const response = await this.send('GET', `/api/v1/audit?${withFormat(query, format)}`);
    return { filename: filenameFrom(response.headers.get('content-disposition')) ?? `greenlight-audit.${format}`, response };
  }

  decisionReport(query: string): Promise<DecisionReport> {
    return this.data('GET', `/api/v1/reports/decisions?${query}`, decisionReportSchema);
  }

  async listUsers(): Promise<User[]> {
    return (await this.data('GET', '/api/v1/users', userListSchema)).users;
  }

  createUser(input: NewUser): Promise<CreatedUser> {
    return this.data('POST', '/api/v1/users', createdUserSchema, { body: input });
  }

  updateUser(name: string, changes: UserUpdate): Promise<User> {
    return this.data('PATCH', userPath(name), userSchema, { body: changes });
  }

  disableUser(name: string): Promise<User> {
    return this.data('POST', userPath(name, '/disable'), userSchema);
  }

  enableUser(name: string): Promise<User> {
    return this.data('POST', userPath(name, '/enable'), userSchema);
  }

  /** A new sign-in token for a person; their earlier one stops working. */
  reissueSignInToken(name: string): Promise<CreatedToken> {
    return this.data('POST', userPath(name, '/sign-in-token'), createdTokenSchema);
  }

  setupStatus(): Promise<SetupStatus> {
    return this.data('GET', '/api/v1/setup', setupStatusSchema);
  }

  myChannels(): Promise<MyChannels> {
    return this.data('GET', '/api/v1/me/channels', myChannelsSchema);
  }

  explainPolicy(query: string): Promise<PolicyExplanation> {
    return this.data('GET', `/api/v1/policy/explain?${query}`, policyExplanationSchema);
  }

  async listDelegations(): Promise<Delegation[]> {
    return (await this.data('GET', '/api/v1/delegations', delegationListSchema)).delegations;
  }

  createDelegation(input: NewDelegation): Promise<Delegation> {
    return this.data('POST', '/api/v1/delegations', delegationSchema, { body: input });
  }

  endDelegation(id: string): Promise<Delegation> {
    return this.data('DELETE', `/api/v1/delegations/${encodeURIComponent(id)}`, delegationSchema);
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (await this.data('GET', '/api/v1/tokens', tokenListSchema)).tokens;
  }

  createToken(input: NewToken): Promise<CreatedToken> {
    return this.data('POST', '/api/v1/tokens', createdTokenSchema, { body: input });
  }

  revokeToken(id: string): Promise<TokenInfo> {
    return this.data('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`, tokenSchema);
  }

  revokeGrant(jti: string): Promise<GreenlightRequest> {
    return this.data('POST', `/api/v1/grants/${encodeURIComponent(jti)}/revoke`, requestSchema);
  }

  extendGrant(jti: string, input: ExtendInput): Promise<GreenlightRequest> {
    return this.data('POST', `/api/v1/grants/${encodeURIComponent(jti)}/extend`, requestSchema, { body: input });
  }
}

/** An audit export under way: the hub's name for the file, and its answer with the body still to read. */
export interface AuditExportDownload {
  filename: string;
  response: Response;
}

/** The filename from a Content-Disposition header, if the hub sent one. */
export function filenameFrom(disposition: string | null): string | null {
  if (!disposition) return null;
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

const baseOf = (hubUrl: string): string => hubUrl.replace(/\/+$/, '');

function urlOf(base: string, path: string, query: Query = {}): string {
  const url = new URL(`${base}${path}`);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  return url.href;
}

const userPath = (name: string, tail = '') => `/api/v1/users/${encodeURIComponent(name)}${tail}`;

function withFormat(query: string, format: 'json' | 'csv' | 'jsonl'): string {
  const params = new URLSearchParams(query);
  params.set('format', format);
  return params.toString();
}
