import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import Provider, { type Account } from 'oidc-provider';
import { Agent, fetch as undiciFetch } from 'undici';

export interface TestAccount {
  preferred_username: string;
  name?: string;
  email?: string;
  groups: string[];
}

export const CLIENT_ID = 'greenlight';
export const CLIENT_SECRET = 'test-client-secret-0123456789abcdef';

/**
 * A real OpenID Provider (`oidc-provider`, certified) on loopback over HTTPS with a throwaway
 * certificate, its test accounts signing in through its own login page (any password), each with a
 * `groups` claim the test may change between sign-ins.
 */
export class TestOidcProvider {
  readonly accounts = new Map<string, TestAccount>();
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-oidc-'));
  readonly caFile = path.join(this.dir, 'cert.pem');
  private server: Server | null = null;
  private readonly agent: Agent;

  constructor(
    readonly port: number,
    private readonly redirectUris: () => string[],
    private readonly idTokenTtlSeconds = 3600,
  ) {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(this.dir, 'key.pem'), '-out', this.caFile,
    ], { stdio: 'ignore' });
    this.agent = new Agent({ connect: { ca: readFileSync(this.caFile, 'utf8') } });
  }

  get issuer(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const provider = new Provider(this.issuer, {
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: this.redirectUris(), grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
      claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'] },
      scopes: ['openid', 'profile', 'email', 'groups'],
      // The claims go in the ID token itself, as Keycloak, Okta and Entra can be set to do.
      conformIdTokenClaims: false,
      pkce: { required: () => true },
      ttl: { IdToken: this.idTokenTtlSeconds, AccessToken: 600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
      cookies: { keys: ['test-cookie-key-0123456789'] },
      features: { devInteractions: { enabled: true } },
      findAccount: (_context, id): Account | undefined => {
        const account = this.accounts.get(id);
        return account ? { accountId: id, claims: () => ({ sub: id, ...account }) } : undefined;
      },
    });
    this.server = createServer({ key: readFileSync(path.join(this.dir, 'key.pem')), cert: readFileSync(this.caFile) }, provider.callback());
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.port, '127.0.0.1', () => resolve());
    });
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    server?.closeAllConnections();
  }

  async dispose(): Promise<void> {
    await this.stop();
    await this.agent.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Follows a sign-in as a browser would, from the hub's login URL through the provider's login and
   * consent pages (`login` typed in, any password), until a redirect leaves the provider. Returns that
   * redirect (the hub's callback) and the cookies the hub set on the way.
   */
  async signIn(hubLoginUrl: string, login: string): Promise<{ callback: string; hubCookie: string }> {
    const jar = new Map<string, string>();
    const started = await fetch(hubLoginUrl, { redirect: 'manual' });
    const hubCookie = (started.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    let location = started.headers.get('location');
    let method = 'GET';
    let body: string | undefined;
    for (let hop = 0; hop < 20 && location; hop++) {
      const url = new URL(location, this.issuer);
      if (url.origin !== this.issuer) return { callback: url.href, hubCookie };
      const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
      const headers: Record<string, string> = { cookie, ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) };
      const response = await undiciFetch(url.href, { method, headers, body, redirect: 'manual', dispatcher: this.agent });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair?.indexOf('=') ?? -1;
        if (pair && at > 0) jar.set(pair.slice(0, at), pair.slice(at + 1));
      }
      method = 'GET';
      body = undefined;
      location = response.headers.get('location');
      if (location) continue;
      const html = await response.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
      if (!action || !prompt) throw new Error(`the provider answered ${response.status} without a form: ${html.slice(0, 300)}`);
      method = 'POST';
      body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt }).toString();
      location = new URL(action.replace(/&amp;/g, '&'), this.issuer).href;
    }
    throw new Error('the sign-in did not come back from the provider');
  }
}
