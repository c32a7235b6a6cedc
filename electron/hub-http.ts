import { auditPageSchema, type AuditPage } from '../protocol/audit.js';
import { GreenlightError, wireErrorSchema } from '../protocol/errors.js';
import { decisionReportSchema, type DecisionReport } from '../protocol/report.js';
import { requestSchema, type GreenlightRequest } from '../protocol/request.js';
import { setupStatusSchema, type SetupStatus } from '../protocol/setup.js';
import { createdUserSchema, userListSchema, userSchema, type CreatedUser, type NewUser, type User, type UserUpdate } from '../protocol/user.js';
import { createdTokenSchema, tokenListSchema, tokenSchema, type CreatedToken, type NewToken, type TokenInfo } from '../protocol/token.js';

export type Fetch = (url: URL, init: RequestInit) => Promise<Response>;
export interface HubAuth {
  hubUrl: string;
  token: string;
}

/**
 * The hub calls that are HTTP-only (audit, export, the decision report, grant revocation, managing users). They run in main, which
 * holds the token; the renderer never sees it.
 */
export function createHubHttp(fetchImpl: Fetch, auth: () => HubAuth) {
  const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const { hubUrl, token } = auth();
    let response: Response;
    try {
      response = await fetchImpl(new URL(path, hubUrl), {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      });
    } catch (error) {
      throw new GreenlightError('UNAVAILABLE', `Cannot reach the hub at ${hubUrl}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.ok) return response;
    const body: unknown = await response.json().catch(() => null);
    const parsed = wireErrorSchema.safeParse((body as { error?: unknown } | null)?.error);
    if (parsed.success) throw new GreenlightError(parsed.data.code, parsed.data.message);
    throw new GreenlightError(response.status === 401 ? 'UNAUTHENTICATED' : response.status === 403 ? 'FORBIDDEN' : 'INTERNAL', `The hub answered ${response.status} ${response.statusText}`);
  };
  const withFormat = (query: string, format: string) => {
    const params = new URLSearchParams(query);
    params.set('format', format);
    return params.toString();
  };
  return {
    async audit(query: string): Promise<AuditPage> {
      return auditPageSchema.parse(await (await call(`/api/v1/audit?${withFormat(query, 'json')}`)).json());
    },
    async exportAudit(query: string, format: 'csv' | 'jsonl'): Promise<{ filename: string; content: string }> {
      const response = await call(`/api/v1/audit?${withFormat(query, format)}`);
      const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(response.headers.get('content-disposition') ?? '');
      return { filename: match?.[1] ? decodeURIComponent(match[1]) : `greenlight-audit.${format}`, content: await response.text() };
    },
    async decisionReport(query: string): Promise<DecisionReport> {
      return decisionReportSchema.parse(await (await call(`/api/v1/reports/decisions?${query}`)).json());
    },
    async listUsers(): Promise<User[]> {
      return userListSchema.parse(await (await call('/api/v1/users')).json()).users;
    },
    async createUser(input: NewUser): Promise<CreatedUser> {
      return createdUserSchema.parse(await (await call('/api/v1/users', { method: 'POST', body: JSON.stringify(input) })).json());
    },
    async updateUser(name: string, changes: UserUpdate): Promise<User> {
      return userSchema.parse(await (await call(userPath(name), { method: 'PATCH', body: JSON.stringify(changes) })).json());
    },
    async disableUser(name: string): Promise<User> {
      return userSchema.parse(await (await call(userPath(name, '/disable'), { method: 'POST', body: '{}' })).json());
    },
    async enableUser(name: string): Promise<User> {
      return userSchema.parse(await (await call(userPath(name, '/enable'), { method: 'POST', body: '{}' })).json());
    },
    async setupStatus(): Promise<SetupStatus> {
      return setupStatusSchema.parse(await (await call('/api/v1/setup')).json());
    },
    async listTokens(): Promise<TokenInfo[]> {
      return tokenListSchema.parse(await (await call('/api/v1/tokens')).json()).tokens;
    },
    async createToken(input: NewToken): Promise<CreatedToken> {
      return createdTokenSchema.parse(await (await call('/api/v1/tokens', { method: 'POST', body: JSON.stringify(input) })).json());
    },
    async revokeToken(id: string): Promise<TokenInfo> {
      return tokenSchema.parse(await (await call(`/api/v1/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' })).json());
    },
    async revokeGrant(jti: string): Promise<GreenlightRequest> {
      const response = await call(`/api/v1/grants/${encodeURIComponent(jti)}/revoke`, { method: 'POST', body: '{}' });
      return requestSchema.parse(await response.json());
    },
  };
}
export type HubHttp = ReturnType<typeof createHubHttp>;

const userPath = (name: string, tail = '') => `/api/v1/users/${encodeURIComponent(name)}${tail}`;
