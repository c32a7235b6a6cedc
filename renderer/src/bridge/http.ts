import { GreenlightError, wireErrorSchema } from '../../../protocol/errors.js';

/** Calls the hub's HTTP API with the token; turns `{error:{code,message}}` into a GreenlightError. */
export async function hubFetch(hubUrl: string, token: string, path: string, init: RequestInit = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(new URL(path, hubUrl), {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    });
  } catch (error) {
    throw new GreenlightError('UNAVAILABLE', `Cannot reach the hub at ${hubUrl}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (response.ok) return response;
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's error page): fall through to the status line.
  }
  const parsed = wireErrorSchema.safeParse((body as { error?: unknown } | null)?.error);
  if (parsed.success) throw new GreenlightError(parsed.data.code, parsed.data.message);
  throw new GreenlightError(response.status === 401 ? 'UNAUTHENTICATED' : response.status === 403 ? 'FORBIDDEN' : 'INTERNAL', `The hub answered ${response.status} ${response.statusText}`);
}

export async function hubJson<T>(hubUrl: string, token: string, path: string, init: RequestInit = {}): Promise<T> {
  const response = await hubFetch(hubUrl, token, path, init);
  return (await response.json()) as T;
}

/** The filename from a Content-Disposition header, if the hub sent one. */
export function filenameFrom(disposition: string | null): string | null {
  if (!disposition) return null;
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}
