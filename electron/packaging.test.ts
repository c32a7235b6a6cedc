import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, '..');
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;

/** What the desktop app loads at run time (electron/ imports these; protocol/ brings zod and socket.io-client). */
const DESKTOP_MODULES = ['electron-store', 'socket.io-client', 'zod'];
/** The hub's dependencies: none of them may ship in the desktop app. */
const SERVER_ONLY = ['better-sqlite3', '@socket.io/postgres-adapter', 'fastify', '@fastify/static', '@fastify/rate-limit', 'pg', 'pino', 'kysely', 'prom-client', 'socket.io', 'commander', 'jose', 'picomatch', 'yaml', 'tsx'];
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

describe('electron-builder.yml', () => {
  it("is valid against app-builder-lib's own schema", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration(config: unknown, logger: { isEnabled: boolean; add(key: string, value: unknown): void }): Promise<void>;
    };
    await expect(validateConfiguration(config, { isEnabled: false, add() {} })).resolves.toBeUndefined();
  });

  it('rejects a misspelt option (the validation is real)', async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration(config: unknown, logger: { isEnabled: boolean; add(key: string, value: unknown): void }): Promise<void>;
    };
    await expect(validateConfiguration({ ...config, electronFusez: {} }, { isEnabled: false, add() {} })).rejects.toThrow(/electronFusez/);
  });

  it('names the app, its icons, every target and the fuses', () => {
    expect(config).toMatchObject({
      appId: 'dev.greenlight.desktop',
      productName: 'Greenlight',
      asar: true,
      npmRebuild: false,
      linux: { target: ['AppImage', 'deb'], icon: 'assets/icons' },
      mac: { target: 'dmg', icon: 'assets/icon.png' },
      win: { target: 'nsis', icon: 'assets/icon.png' },
      electronFuses: { runAsNode: false, onlyLoadAppFromAsar: true, enableCookieEncryption: true },
    });
    for (const icon of ['assets/icon.png', 'assets/icons/256x256.png', 'assets/icons/512x512.png']) expect(existsSync(join(root, icon)), icon).toBe(true);
  });
});

/** The package's runtime dependencies, transitively, read from node_modules. */
function closureOf(names: string[]): Set<string> {
  const seen = new Set<string>();
  const walk = (name: string) => {
    const file = join(root, 'node_modules', name, 'package.json');
    if (seen.has(name) || !existsSync(file)) return;
    seen.add(name);
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) walk(dep);
  };
  names.forEach(walk);
  return seen;
}

/** Runs an npx command in the repository; a failure carries the command's own output. */
function run(args: string[], env: Record<string, string> = {}): void {
  try {
    execFileSync(process.platform === 'win32' ? 'npx.cmd' : 'npx', args, { cwd: root, stdio: 'pipe', env: { ...process.env, ...env } });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npx ${args.join(' ')} failed:\n${`${stdout ?? ''}${stderr ?? ''}`.slice(-4000)}`);
  }
}

describe('packaging with a stand-in Electron', () => {
  let work: string;
  let files: string[];
  let unpacked: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'gl-pack-'));
    // The real binary can't be downloaded here; a file with Electron's fuse wire lets the fuses be flipped and checked.
    const electronDist = join(work, 'electron-dist');
    mkdirSync(electronDist);
    writeFileSync(join(electronDist, 'electron'), Buffer.concat([Buffer.from('#!/bin/sh\nexit 0\n'), Buffer.from(FUSE_SENTINEL), Buffer.from([1, 8]), Buffer.from('10110001')]), { mode: 0o755 });
    rmSync(join(root, 'dist', 'electron'), { recursive: true, force: true });
    run(['tsc', '-p', 'electron/tsconfig.build.json']);
    if (!existsSync(join(root, 'renderer', 'dist', 'index.html'))) run(['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error']);
    run(['electron-builder', '--config', 'electron-builder.yml', '--linux', 'dir', `-c.electronDist=${electronDist}`, '-c.npmRebuild=false', `-c.directories.output=${join(work, 'out')}`], {
      ELECTRON_BUILDER_CACHE: join(work, 'cache'),
    });
    unpacked = join(work, 'out', 'linux-unpacked');
    const asar = require('@electron/asar') as { listPackage(path: string, options: { isPack: boolean }): string[] };
    files = asar.listPackage(join(unpacked, 'resources', 'app.asar'), { isPack: false }).map((file) => file.replaceAll('\\', '/'));
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const modules = () =>
    new Set(files.filter((file) => file.startsWith('/node_modules/')).map((file) => file.split('/').slice(2, file.split('/')[2]?.startsWith('@') ? 4 : 3).join('/')));

  it('app.asar holds the built main, preload and renderer', () => {
    for (const file of ['/package.json', '/dist/electron/electron/main.js', '/dist/electron/electron/preload/preload.js', '/dist/electron/protocol/hub-client.js', '/renderer/dist/index.html', '/assets/tray/idle-light.png', '/assets/tray/idle-light@2x.png']) {
      expect(files, file).toContain(file);
    }
    expect(files.filter((file) => file.endsWith('.test.js') || (file.startsWith('/dist/') && file.endsWith('.map')))).toEqual([]);
    expect(files.filter((file) => file.endsWith('/request-fixture.js') || file.startsWith('/dist/electron/electron/test/'))).toEqual([]);
  });

  it('app.asar holds keytar (its addon unpacked) and electron-store with everything they and the protocol need', () => {
    expect(files).toContain('/node_modules/keytar/build/Release/keytar.node');
    expect(existsSync(join(unpacked, 'resources', 'app.asar.unpacked', 'node_modules', 'keytar', 'build', 'Release', 'keytar.node'))).toBe(true);
    const missing = [...closureOf(DESKTOP_MODULES)].filter((name) => !modules().has(name));
    expect(missing, 'add these to the node_modules allow-list in electron-builder.yml').toEqual([]);
  });

  it("app.asar holds none of the hub's server-only dependencies", () => {
    const shipped = modules();
    expect(SERVER_ONLY.filter((name) => shipped.has(name))).toEqual([]);
    const desktop = closureOf(DESKTOP_MODULES);
    expect([...shipped].filter((name) => !desktop.has(name) && name !== 'keytar' && name !== '@socket.io')).toEqual([]);
    expect(files.some((file) => file.startsWith('/dist/electron/server') || file.startsWith('/server/'))).toBe(false);
  });

  it('flips the fuses: RunAsNode off, OnlyLoadAppFromAsar on, cookie encryption on', () => {
    const binary = readFileSync(join(unpacked, 'greenlight'));
    const at = binary.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length + 2;
    const wire = binary.subarray(at, at + 8).toString('latin1');
    expect({ runAsNode: wire[0], cookieEncryption: wire[1], onlyLoadAppFromAsar: wire[5] }).toEqual({ runAsNode: '0', cookieEncryption: '1', onlyLoadAppFromAsar: '1' });
  });
});
