/** Returns the URL if it is http(s); anything else (javascript:, file:, data:) is refused. */
export function safeHttpUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return url.href;
}

/** Whether a URL names a user or password before its host (`https://name@host/`). */
export function hasUserInfo(value: string): boolean {
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}


/**
 * Where a link leads, to show beside its title: the host as the URL parser sees it (an
 * internationalised name in its punycode form, so a lookalike letter shows as `xn--`). A long host
 * keeps its end, where the domain that owns it is. Null for anything but an http(s) URL.
 */
export function shownHost(value: string, max = 40): string | null {
  const safe = safeHttpUrl(value);
  if (safe === null) return null;
  const host = new URL(safe).host;
  return host.length <= max ? host : `…${host.slice(host.length - (max - 1))}`;
}
