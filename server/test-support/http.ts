/** Plain HTTP calls against any hub (in-process or a child process), and checks on what it answers. */
import { ERROR_CODES, type AuditEvent, type ErrorCode } from '../../protocol/index.js';

export type ErrorBody = { error: { code: string; message: string } };

export interface Reply<T = unknown> {
  status: number;
  body: T;
  /** The raw text, for checking that error replies are JSON. */
  text: string;
}

/** One HTTP call against any hub URL (in-process or a child process); the body is parsed when it is JSON. */
export async function call<T = unknown>(baseUrl: string, method: string, route: string, token: string | null, body?: unknown, rawBody?: string): Promise<Reply<T>> {
  const hasBody = body !== undefined || rawBody !== undefined;
  const response = await fetch(baseUrl + route, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(hasBody ? { 'content-type': 'application/json' } : {}) },
    body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text so the assertion shows it
  }
  return { status: response.status, body: parsed as T, text };
}

export const isErrorCode = (value: unknown): value is ErrorCode => typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);

/** True when the reply is the hub's error shape with a stable code and a message a person can read. */
export function isWireError(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return isErrorCode(code) && typeof message === 'string' && message.length > 0;
}

/** Every audit event of one type, following the cursor across pages. */
export async function auditEvents(baseUrl: string, adminToken: string, type: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | null = null;
  for (;;) {
    const route = `/api/v1/audit?type=${type}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: Reply<{ events: AuditEvent[]; nextCursor: string | null }> = await call(baseUrl, 'GET', route, adminToken);
    if (page.status !== 200) throw new Error(`audit query failed: ${page.status} ${page.text}`);
    events.push(...page.body.events);
    cursor = page.body.nextCursor;
    if (!cursor) return events;
  }
}

/** Counts events per request id. */
export function countByRequest(events: AuditEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const event of events) if (event.requestId) counts.set(event.requestId, (counts.get(event.requestId) ?? 0) + 1);
  return counts;
}
