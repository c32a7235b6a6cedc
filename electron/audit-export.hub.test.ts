import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '../protocol/events.js';
import { HubHttp } from '../protocol/hub-http.js';
import { createAuditExport } from './audit-export.js';
import { createIpcHandlers } from './ipc-handlers.js';
import { registerIpc, trustedSender } from './ipc.js';
import { FakeIpcMain, FakeSaveDialog, FakeWebContents } from './test/electron-fakes.js';
import { spawnHub, type SpawnedHub } from '../server/test-support/hub-process.js';

/** Each auto-approved request writes three events (submitted, approved, grant issued): 2,400 in all, three export pages of 1,000. */
const REQUESTS = 800;
const EVENTS = REQUESTS * 3;
const QUERY = 'action=export-seed';
const POLICY = 'rules:\n  - name: seed\n    match: { action: export-seed }\n    autoApprove: true\n    grantTtl: 5m\n';

const notUsed = (): never => {
  throw new Error('not used in this test');
};

/** A loopback proxy to the hub that drops the connection after `limit` bytes of the hub's answer, as a network failing mid-download would. */
function cuttingProxy(hubUrl: string, limit: number): Promise<{ url: string; server: Server }> {
  const hub = new URL(hubUrl);
  const server = createServer((client) => {
    const upstream = connect(Number(hub.port), hub.hostname);
    client.pipe(upstream);
    let sent = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (sent + chunk.length < limit) {
        sent += chunk.length;
        client.write(chunk);
        return;
      }
      client.end(chunk.subarray(0, limit - sent), () => client.destroy());
      upstream.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })));
}

describe('desktop audit export, streamed to a file, against a real hub (Electron dialog and IPC are fakes)', () => {
  let hub: SpawnedHub;
  const folders: string[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    hub = await spawnHub({ policy: POLICY, args: ['--log-level', 'warn'], timeoutMs: 45_000 });
    const seeder = await hub.createUser({ name: 'seeder', roles: ['requester'], groups: [] });
    const submit = async (i: number) => {
      const response = await fetch(`${hub.url}/api/v1/requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${seeder.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'export-seed', resource: `ledger-${i}`, environment: 'production', reason: `nightly run ${i} for Zoë, "quoted", with, commas`, risk: 'low' }),
      });
      if (response.status !== 201) throw new Error(`seeding request ${i}: ${response.status} ${await response.text()}`);
    };
    for (let i = 0; i < REQUESTS; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => submit(i + j)));
  }, 120_000);

  afterAll(async () => {
    for (const server of servers) server.close();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    await hub?.stop();
  });

  const folder = () => {
    const made = mkdtempSync(path.join(tmpdir(), 'greenlight-export-'));
    folders.push(made);
    return made;
  };
  const asAdmin = (hubUrl = hub.url) => new HubHttp({ fetch: (url, init) => fetch(url, init), session: () => ({ hubUrl, token: hub.adminToken }) });
  const hubBytes = async (format: 'csv' | 'jsonl') => {
    const response = await fetch(`${hub.url}/api/v1/audit?${QUERY}&format=${format}`, { headers: { authorization: `Bearer ${hub.adminToken}` } });
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  };

  /** Main as the app builds it, for IPC: the export's handler with a real HubHttp; the rest is not used here. */
  function desktopMain(hubHttp: HubHttp, dialog: FakeSaveDialog, downloads: string) {
    const ipcMain = new FakeIpcMain();
    const page = { contents: new FakeWebContents(), url: 'app://greenlight/index.html' };
    registerIpc({
      ipcMain,
      isTrustedSender: trustedSender((sender) => sender.id === page.contents.id),
      handlers: createIpcHandlers({
        connection: { session: { hubUrl: hub.url, signedIn: true, state: 'connected', error: null }, signIn: notUsed, signOut: notUsed, dismissSignOutNote: notUsed, hub: notUsed, holds: () => false, ensureKeychain: notUsed },
        hubHttp,
        desktopSettings: { current: notUsed, update: notUsed },
        exportAudit: createAuditExport({ hubHttp, dialog, window: () => null, defaultFolder: () => downloads }),
        openExternal: async () => {},
        rendererReady: () => {},
      }),
    });
    return (format: 'csv' | 'jsonl') => ipcMain.invoke('greenlight:exportAudit', page, { query: `${QUERY}&limit=1000`, format });
  }

  it('saves a CSV spanning several export pages byte for byte, its byte order mark included, and the window hears only where it went', async () => {
    const downloads = folder();
    const target = path.join(folder(), 'chosen.csv');
    const dialog = new FakeSaveDialog({ filePath: target });
    const ack = (await desktopMain(asAdmin(), dialog, downloads)('csv')) as Ack<unknown>;

    // What crosses to the renderer: where the file is and how many events it holds, never its content.
    expect(ack).toEqual({ data: { outcome: 'saved', path: target, events: EVENTS } });
    const saved = readFileSync(target);
    expect(saved.length).toBeGreaterThan(100_000);
    expect(JSON.stringify(ack).length).toBeLessThan(200);
    expect(saved.equals(await hubBytes('csv'))).toBe(true);
    expect([...saved.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(saved.toString('utf8')).toContain('Zoë');
    // The dialog offered the hub's own file name, in the Downloads folder.
    expect(dialog.asked).toHaveLength(1);
    expect(dialog.asked[0]?.options.defaultPath).toMatch(new RegExp(`^${downloads}/greenlight-audit-.+\\.csv$`));
    expect(readdirSync(path.dirname(target))).toEqual(['chosen.csv']);
  });

  it('saves JSON lines as the hub sent them, one event a line, and counts them', async () => {
    const target = path.join(folder(), 'audit.jsonl');
    const ack = (await desktopMain(asAdmin(), new FakeSaveDialog({ filePath: target }), folder())('jsonl')) as Ack<unknown>;
    expect(ack).toEqual({ data: { outcome: 'saved', path: target, events: EVENTS } });
    const saved = readFileSync(target);
    expect(saved.equals(await hubBytes('jsonl'))).toBe(true);
    expect(saved.toString('utf8').trimEnd().split('\n')).toHaveLength(EVENTS);
  });

  it('writes nothing when the save dialog is cancelled', async () => {
    const downloads = folder();
    const dialog = new FakeSaveDialog('cancel');
    const ack = (await desktopMain(asAdmin(), dialog, downloads)('csv')) as Ack<unknown>;
    expect(ack).toEqual({ data: { outcome: 'cancelled' } });
    expect(dialog.asked).toHaveLength(1);
    expect(readdirSync(downloads)).toEqual([]);
  });

  it('a download cut off midway leaves no file under the chosen name, and a file already there as it was', async () => {
    const proxy = await cuttingProxy(hub.url, 60_000);
    servers.push(proxy.server);
    const dir = folder();
    const fresh = path.join(dir, 'fresh.csv');
    const ack = (await desktopMain(asAdmin(proxy.url), new FakeSaveDialog({ filePath: fresh }), dir)('csv')) as Ack<unknown>;
    expect(ack).toMatchObject({ error: { code: 'UNAVAILABLE', message: expect.stringMatching(/^The export stopped before the hub sent all of it .*nothing was saved as fresh\.csv\. Try again\.$/) } });
    expect(readdirSync(dir)).toEqual([]);

    const kept = path.join(dir, 'last-month.csv');
    writeFileSync(kept, 'the export from last month\n');
    const again = (await desktopMain(asAdmin(proxy.url), new FakeSaveDialog({ filePath: kept }), dir)('csv')) as Ack<unknown>;
    expect(again).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    expect(readdirSync(dir)).toEqual(['last-month.csv']);
    expect(readFileSync(kept, 'utf8')).toBe('the export from last month\n');
  });

  it('a file that cannot be written says where, and leaves nothing behind', async () => {
    const dir = folder();
    // A folder where the file should go: the rename at the end fails.
    const target = path.join(dir, 'taken.csv');
    mkdirSync(target);
    const ack = (await desktopMain(asAdmin(), new FakeSaveDialog({ filePath: target }), dir)('csv')) as Ack<unknown>;
    expect(ack).toMatchObject({ error: { code: 'INTERNAL', message: expect.stringContaining(`Could not save the export as ${target}`) } });
    expect(readdirSync(dir)).toEqual(['taken.csv']);
  });

  it('a hub refusal shows before any dialog opens', async () => {
    const dev = await hub.createUser({ name: 'dev', roles: ['requester'], groups: [] });
    const dialog = new FakeSaveDialog({ filePath: path.join(folder(), 'never.csv') });
    const http = new HubHttp({ fetch: (url, init) => fetch(url, init), session: () => ({ hubUrl: hub.url, token: dev.token }) });
    const ack = (await desktopMain(http, dialog, folder())('csv')) as Ack<unknown>;
    expect(ack).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(dialog.asked).toEqual([]);
  });
});
