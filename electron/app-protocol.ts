import type { CustomScheme } from 'electron';
import { extname, join, normalize, sep } from 'node:path';
import { APP_SCHEME, CONTENT_SECURITY_POLICY, isAppUrl } from './app-origin.js';

/** Registered before app ready: standard + secure so ES modules, storage and the CSP behave as on https. */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
};

/**
 * Serves the built renderer from `root` under app://greenlight/, with the CSP on every response.
 * Paths outside `root` are refused; an extension-less path is a client-side route and gets index.html.
 */
export function createAppProtocolHandler(deps: { root: string; readFile: (path: string) => Promise<Uint8Array> }) {
  const root = normalize(deps.root);
  return async (request: Pick<Request, 'url'>): Promise<Response> => {
    if (!isAppUrl(request.url)) return notFound();
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      return notFound();
    }
    if (pathname.includes('\0')) return notFound();
    const relative = extname(pathname) === '' ? 'index.html' : pathname;
    const file = normalize(join(root, relative));
    if (!file.startsWith(root + sep)) return notFound();
    try {
      const body = await deps.readFile(file);
      const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      return new Response(new Uint8Array(body), { status: 200, headers: { 'Content-Type': type, ...SECURITY_HEADERS } });
    } catch {
      return notFound();
    }
  };
}

function notFound(): Response {
  return new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain', ...SECURITY_HEADERS } });
}
