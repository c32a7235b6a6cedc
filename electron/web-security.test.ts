import { describe, expect, it } from 'vitest';
import type { WebContents } from 'electron';
import { CONTENT_SECURITY_POLICY, isAppUrl } from './app-origin.js';
import { openExternalUrl } from './open-external.js';
import { guardSession } from './web-security.js';
import { FakeSession, FakeWebContents } from './test/electron-fakes.js';

describe('web security with Electron fakes', () => {
  it('the permission request handler denies everything but clipboard writes from the app page', () => {
    const session = new FakeSession();
    guardSession(session);
    const app = new FakeWebContents() as unknown as WebContents;
    const decide = (permission: Parameters<NonNullable<FakeSession['requestHandler']>>[1], contents = app) => {
      let granted: boolean | null = null;
      session.requestHandler?.(contents, permission, (value) => (granted = value), { isMainFrame: true, requestingUrl: 'app://greenlight/' });
      return granted;
    };
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'display-capture', 'clipboard-read', 'fullscreen'] as const) {
      expect(decide(permission)).toBe(false);
    }
    expect(decide('clipboard-sanitized-write')).toBe(true);
    const foreign = new FakeWebContents();
    foreign.url = 'https://evil.example.com';
    expect(decide('clipboard-sanitized-write', foreign as unknown as WebContents)).toBe(false);
    const check = session.checkHandler;
    expect(check?.(null, 'media', 'app://greenlight', { isMainFrame: true, embeddingOrigin: '', securityOrigin: '' } as never)).toBe(false);
  });

  it('cancels every network request: no remote content', () => {
    const session = new FakeSession();
    guardSession(session);
    expect(session.beforeRequest?.filter.urls).toEqual(['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*']);
    let response: unknown = null;
    session.beforeRequest?.listener({ url: 'https://cdn.example.com/x.js' } as never, (value) => (response = value));
    expect(response).toEqual({ cancel: true });
  });

  it('the CSP allows only the app itself', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:|\*/);
  });

  it('recognises only app://greenlight as the app', () => {
    expect(isAppUrl('app://greenlight/index.html')).toBe(true);
    expect(isAppUrl('app://greenlight.evil/index.html')).toBe(false);
    expect(isAppUrl('file:///app/index.html')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });

  it('opens only http and https links externally', async () => {
    const opened: string[] = [];
    const open = async (url: string) => {
      opened.push(url);
    };
    expect(await openExternalUrl('https://example.com/a?b=c', open)).toBe(true);
    expect(await openExternalUrl('http://example.com', open)).toBe(true);
    for (const bad of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'not a url', 42, null]) {
      expect(await openExternalUrl(bad, open)).toBe(false);
    }
    expect(opened).toEqual(['https://example.com/a?b=c', 'http://example.com/']);
  });
});
