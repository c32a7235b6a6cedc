/**
 * The hub's pages load only what the hub serves: scripts, styles, images and fonts from itself,
 * nothing from elsewhere, never framed. `extraStyles` adds what a page must allow inline (by hash).
 */
export function sameOriginPolicy(extraStyles: string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    ["style-src 'self'", ...extraStyles].join(' '),
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}
