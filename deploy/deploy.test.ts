/**
 * The deployment files, checked as far as this machine allows: no Docker daemon or base images here
 * (the Dockerfile can't be built; its entrypoint runs in server/compiled.test.ts), but the compose
 * file parses, and systemd checks the unit.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';

const DEPLOY = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(DEPLOY, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

const composeSchema = z.object({
  services: z.record(
    z.string(),
    z.object({
      image: z.string().optional(),
      build: z.object({ context: z.string(), dockerfile: z.string() }).optional(),
      environment: z.record(z.string(), z.string()).optional(),
      ports: z.array(z.string()).optional(),
      volumes: z.array(z.string()).optional(),
      depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
      healthcheck: z.object({ test: z.array(z.string()) }).optional(),
    }),
  ),
  volumes: z.record(z.string(), z.unknown()).optional(),
});

describe('deploy/docker-compose.yml', () => {
  const compose = composeSchema.parse(parse(read('deploy/docker-compose.yml'), { merge: true }));

  it('runs PostgreSQL, two hubs on it and the console in front of both', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['console', 'hub-a', 'hub-b', 'postgres']);
    for (const name of ['hub-a', 'hub-b']) {
      const hub = compose.services[name];
      expect(hub?.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
      expect(existsSync(path.join(DEPLOY, hub?.build?.context ?? '', hub?.build?.dockerfile ?? ''))).toBe(true);
      expect(hub?.environment?.GREENLIGHT_DATABASE_URL).toMatch(/^postgres:\/\/greenlight:\$\{POSTGRES_PASSWORD:\?[^}]+\}@postgres:5432\/greenlight$/);
      expect(hub?.environment?.GREENLIGHT_TRUST_PROXY).toBe('true');
      expect(hub?.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    }
    expect(compose.services.postgres?.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(compose.services.console?.depends_on).toEqual({ 'hub-a': { condition: 'service_healthy' }, 'hub-b': { condition: 'service_healthy' } });
    expect(compose.services.console?.ports).toEqual(['8080:8080']);
  });

  it("points the console's proxy at both hubs, with WebSocket upgrades and timeouts past the longest long-poll", () => {
    const mounted = compose.services.console?.volumes?.[0]?.split(':')[0] ?? '';
    const nginx = readFileSync(path.join(DEPLOY, mounted), 'utf8');
    expect(nginx).toContain('server hub-a:7300');
    expect(nginx).toContain('server hub-b:7300');
    expect(nginx).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(nginx).toContain('proxy_set_header X-Forwarded-For');
    expect(Number(/proxy_read_timeout (\d+)s/.exec(nginx)?.[1])).toBeGreaterThan(300);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds in one stage and runs from another, as a user without privileges, checking /readyz', () => {
    expect(stages).toHaveLength(2);
    const runtime = stages[1] ?? '';
    expect(runtime).toMatch(/^USER greenlight$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/readyz/m);
    expect(runtime).toContain('ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]');
  });

  it('ships only the hub, the built console (and the icon it answers /favicon.ico with) and production modules', () => {
    const copied = [...(stages[1] ?? '').matchAll(/^COPY --from=build \/src\/(\S+)/gm)].map((match) => match[1]);
    expect(copied.sort()).toEqual(['assets/icon.png', 'bin', 'deploy/docker-entrypoint.sh', 'dist/server', 'node_modules', 'package.json', 'renderer/dist']);
    expect(stages[0]).toContain('npm prune --omit=dev');
  });
});

const systemdAnalyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((file) => existsSync(file));

/** `systemd-analyze verify` exits 0 even when it ignores a line; what it prints is the verdict. */
function verify(unitFile: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(systemdAnalyze ?? 'systemd-analyze', ['verify', '--man=no', unitFile], (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, output: `${stdout}${stderr}`.trim() });
    });
  });
}

describe.skipIf(!systemdAnalyze)(`deploy/greenlight.service${systemdAnalyze ? '' : ' (skipped: systemd-analyze is not installed on this machine)'}`, () => {
  const unit = read('deploy/greenlight.service');

  it('passes systemd-analyze verify without a word', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-unit-'));
    try {
      copyFileSync(path.join(DEPLOY, 'greenlight.service'), path.join(dir, 'greenlight.service'));
      expect(await verify(path.join(dir, 'greenlight.service'))).toEqual({ code: 0, output: '' });
      // The check is real: a misspelt key and a bad value are reported.
      writeFileSync(path.join(dir, 'broken.service'), unit.replace('ProtectSystem=strict', 'ProtectSystme=strict').replace('NoNewPrivileges=yes', 'NoNewPrivileges=perhaps'));
      const broken = await verify(path.join(dir, 'broken.service'));
      expect(broken.output).toContain("Unknown key 'ProtectSystme'");
      expect(broken.output).toContain('Failed to parse boolean value');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reloads with SIGHUP, and keeps the hub to its data directory and the network', () => {
    const settings = unit.split('\n').filter((line) => /^[A-Za-z]+=/.test(line));
    for (const line of [
      'ExecStart=/usr/bin/node /opt/greenlight/bin/greenlight.mjs hub',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'User=greenlight',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'StateDirectory=greenlight',
      'ReadWritePaths=/var/lib/greenlight',
      'Environment=GREENLIGHT_DATA_DIR=/var/lib/greenlight',
      'CapabilityBoundingSet=',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    ]) {
      expect(settings).toContain(line);
    }
  });
});
