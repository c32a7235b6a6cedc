/**
 * postgres://user:password@host/db → postgres://user:***@host/db, so a password never reaches a log or
 * a message: in the authority (whatever it holds, an unencoded `/` included) or as a `password`
 * parameter, which the PostgreSQL driver also reads.
 */
export function redactUrl(url: string): string {
  const at = url.lastIndexOf('@', url.search(/[?#]|$/));
  const scheme = url.indexOf('//');
  let redacted = url;
  if (scheme !== -1 && at > scheme) {
    const userInfo = url.slice(scheme + 2, at);
    const colon = userInfo.indexOf(':');
    if (colon !== -1) redacted = `${url.slice(0, scheme + 2)}${userInfo.slice(0, colon)}:***${url.slice(at)}`;
  }
  return redacted.replace(/([?&]password=)[^&#]*/gi, '$1***');
}
