import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, HubProcess, spawnHub } from './hub-process.js';

describe('HubProcess', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-hub-process-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('listens on the port it is given, keeps its output in a log file, and comes back on that port after a kill', async () => {
    const port = await freePort();
    const logFile = path.join(dir, 'hub.log');
    const hub = new HubProcess(['--data-dir', path.join(dir, 'data')], { GREENLIGHT_LOG_LEVEL: 'info' }, { port, logFile });
    try {
      expect(await hub.start()).toBe(`http://127.0.0.1:${port}`);
      expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
      await hub.kill();
      await hub.start();
      expect(hub.url).toBe(`http://127.0.0.1:${port}`);
    } finally {
      await hub.stop();
    }
    expect(readFileSync(logFile, 'utf8').match(/listening on/g)).toHaveLength(2);
    expect(hub.output()).toBe(readFileSync(logFile, 'utf8'));
  });

  it('rejects with the hub’s output when it exits before it is healthy', async () => {
    const hub = new HubProcess(['--policy', path.join(dir, 'missing.yaml'), '--data-dir', path.join(dir, 'bad')]);
    await expect(hub.start()).rejects.toThrow(/exited with 2 before it was healthy:\n.*missing\.yaml/s);
  });
});

describe('spawnHub', () => {
  it('starts a hub with its own data directory, policy and admin token, and removes the directory on stop', async () => {
    const policy = 'rules:\n  - name: deploys\n    match: { action: deploy }\n    approvers: [sre]\n';
    const hub = await spawnHub({ policy, adminToken: 'glt_test-support-admin-token-000000000000', logToFile: true, timeoutMs: 45_000 });
    try {
      expect(hub.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(readFileSync(path.join(hub.dataDir, 'policy.yaml'), 'utf8')).toBe(policy);
      const user = await hub.createUser({ name: 'alice', roles: ['requester'], groups: [] });
      expect(user.token).toMatch(/^glt_/);
      expect(readFileSync(hub.logFile!, 'utf8')).toContain('listening on');
    } finally {
      await hub.stop();
    }
    expect(existsSync(hub.dataDir)).toBe(false);
  });
});
