import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from '../test-support/hub-fixture.js';
import { DOCS_CSP } from './openapi.js';

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { summary?: string; responses?: Record<string, unknown>; parameters?: { in: string; name: string }[]; requestBody?: unknown }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

const hub = new TestHub();
let spec: OpenApiDocument;
beforeAll(async () => {
  await hub.start();
  spec = (await hub.api<OpenApiDocument>('GET', '/openapi.json', null)).body;
});
afterAll(() => hub.dispose());

/** fastify's `/a/:id` is OpenAPI's `/a/{id}`. */
const openApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

describe('the OpenAPI document', () => {
  it('documents every route the hub registers (a new route without a schema fails here)', () => {
    expect(hub.hub.routes.length).toBeGreaterThan(15);
    expect(hub.hub.routes.filter((route) => !route.documented)).toEqual([]);
  });

  it('is OpenAPI 3.1 with each API route, its summary, answers and error shape', () => {
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.info.title).toBe('Greenlight hub API');
    expect(spec.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const api = hub.hub.routes.filter((route) => route.url.startsWith('/api/') || ['/healthz', '/readyz', '/metrics', '/.well-known/jwks.json'].includes(route.url));
    expect(api.length).toBeGreaterThan(15);
    for (const route of api) {
      const operation = spec.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.url}`).toBeDefined();
      expect(operation?.summary, `${route.method} ${route.url}`).toBeTruthy();
      expect(Object.keys(operation?.responses ?? {}), `${route.method} ${route.url}`).toContain('400');
    }
    expect(Object.keys(spec.paths).filter((path) => path.startsWith('/docs') || path === '/openapi.json')).toEqual([]);
  });

  it('takes its input schemas from the zod schemas the handlers parse with', () => {
    const submit = spec.paths['/api/v1/requests']?.post;
    expect(JSON.stringify(submit?.requestBody)).toContain('"idempotencyKey"');
    const wait = spec.paths['/api/v1/requests/{id}/wait']?.get;
    expect(wait?.parameters?.map((parameter) => `${parameter.in}:${parameter.name}`).sort()).toEqual(['path:id', 'query:timeoutSeconds']);
    expect(Object.keys(spec.components.schemas)).toEqual(expect.arrayContaining(['Request', 'User', 'AuditEvent', 'WireError']));
  });
});

describe('the docs page', () => {
  it('is served at /docs from the hub itself under a strict CSP', async () => {
    const page = await fetch(`${hub.url}/docs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(DOCS_CSP);
    for (const directive of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]) expect(DOCS_CSP).toContain(directive);
    expect(DOCS_CSP).not.toContain('unsafe-inline');
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      // Local files only: nothing from the internet.
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      expect((await fetch(new URL(asset, `${hub.url}/docs/`))).status, asset).toBe(200);
    }
    expect(html).not.toMatch(/<script>(?!\s*<\/script>)/);
  });

  it("loads the document from the hub's own /docs/json", async () => {
    const initializer = await (await fetch(`${hub.url}/docs/static/swagger-initializer.js`)).text();
    expect(initializer).toContain('./json');
    const json = (await (await fetch(`${hub.url}/docs/json`)).json()) as OpenApiDocument;
    expect(json.openapi).toBe('3.1.0');
  });
});
