/**
 * postgres://user:password@host/db → postgres://user:***@host/db, so a password never reaches a log or
 * a message: in the authority (whatever it holds: `/`, `?`, `#` or `@` unencoded included) or as a
 * `password` or `sslpassword` parameter, which the PostgreSQL driver also reads.
 */
export function redactUrl(url: string): string {
  const scheme = url.indexOf('//');
  let redacted = url;
  if (scheme !== -1) {
    const firstAt = url.indexOf('@', scheme + 2);
    // The authority ends at its last '@': the last one before the query, or, when the password
    // itself holds a '?' or '#', the last one before the path that follows the first '@'.
    const queryAt = url.search(/[?#]/);
    const beforeQuery = url.lastIndexOf('@', queryAt === -1 ? url.length : queryAt);
    const pathAfter = firstAt === -1 ? -1 : url.slice(firstAt).search(/[/?#]/);
    const beforePath = firstAt === -1 ? -1 : url.lastIndexOf('@', pathAfter === -1 ? url.length : firstAt + pathAfter);
    const at = Math.max(beforeQuery, beforePath);
    if (at > scheme) {
      const userInfo = url.slice(scheme + 2, at);
      const colon = userInfo.indexOf(':');
      if (colon !== -1) redacted = `${url.slice(0, scheme + 2)}${userInfo.slice(0, colon)}:***${url.slice(at)}`;
    }
  }
  return redacted.replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
}
