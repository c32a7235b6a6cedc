import type { CreatedUser, GreenlightRequest, NewRequest, Role, User } from '../../protocol/index.js';
import { ADMIN_TOKEN } from './policy.js';

export function hubUrl(): string {
  const url = process.env.GREENLIGHT_E2E_URL;
  if (!url) throw new Error('GREENLIGHT_E2E_URL is not set: the global setup did not start a hub');
  return url;
}

const adminToken = () => process.env.GREENLIGHT_E2E_ADMIN_TOKEN ?? ADMIN_TOKEN;

async function call<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
  const response = await fetch(`${hubUrl()}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

let seq = 0;
/** A short suffix that keeps names unique across specs sharing one hub. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${(seq++).toString(36)}`;
}

export interface TestUser {
  name: string;
  token: string;
  roles: Role[];
  groups: string[];
}

export async function createUser(prefix: string, roles: Role[], groups: string[] = []): Promise<TestUser> {
  const created = await call<CreatedUser>('POST', '/api/v1/users', adminToken(), { name: unique(prefix), roles, groups });
  if (!created.token) throw new Error(`${created.name} was created without a token`);
  return { name: created.name, token: created.token, roles, groups };
}

export const adminUser = (): TestUser => ({ name: 'admin', token: adminToken(), roles: ['admin'], groups: [] });

/** The hub's own export of the audit log, as bytes: what a download from the console must hold. */
export async function auditExport(query: string, format: 'csv' | 'jsonl'): Promise<Buffer> {
  const response = await fetch(`${hubUrl()}/api/v1/audit?${query}&format=${format}`, { headers: { authorization: `Bearer ${adminToken()}` } });
  if (!response.ok) throw new Error(`exporting the audit log → ${response.status}: ${await response.text()}`);
  return Buffer.from(await response.arrayBuffer());
}

export function submitRequest(user: TestUser, input: NewRequest): Promise<GreenlightRequest> {
  return call<GreenlightRequest>('POST', '/api/v1/requests', user.token, input);
}

export function getRequest(user: TestUser, id: string): Promise<GreenlightRequest> {
  return call<GreenlightRequest>('GET', `/api/v1/requests/${id}`, user.token);
}

export function decide(user: TestUser, id: string, decision: 'approve' | 'deny', comment?: string, options: { notBefore?: string } = {}): Promise<GreenlightRequest> {
  return call<GreenlightRequest>('POST', `/api/v1/requests/${id}/decisions`, user.token, { decision, ...(comment ? { comment } : {}), ...options });
}

/** "I'm looking at it": holds the request's escalation for the rule's claimHolds. */
export function claim(user: TestUser, id: string): Promise<GreenlightRequest> {
  return call<GreenlightRequest>('POST', `/api/v1/requests/${id}/claim`, user.token, {});
}

export function disableUser(name: string): Promise<unknown> {
  return call('POST', `/api/v1/users/${encodeURIComponent(name)}/disable`, adminToken(), {});
}

export async function listUsers(): Promise<User[]> {
  return (await call<{ users: User[] }>('GET', '/api/v1/users', adminToken())).users;
}

/** `from` hands their approvals to `to` from now for `days` days. */
export function delegate(from: TestUser, to: TestUser, days = 3): Promise<unknown> {
  return call('POST', '/api/v1/delegations', from.token, { to: to.name, endsAt: new Date(Date.now() + days * 86_400_000).toISOString(), reason: 'holiday' });
}
