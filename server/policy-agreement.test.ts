import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SetupStatus } from '../protocol/index.js';
import { ADMIN_TOKEN, startOnOneDatabase, TestHub } from './test-support/hub-fixture.js';
import { capturedLog } from './test-support/captured-log.js';
import { eventually } from './test-support/eventually.js';
import { postgresAvailability } from './test-support/postgres.js';
import { TcpProxy } from './test-support/tcp-proxy.js';
import { parsePolicy } from './domain/policy.js';
import { policyDigest, shortDigest } from './domain/policy-digest.js';

const pg = await postgresAvailability();

const SRE_APPROVES = `
rules:
  - name: prod
    match: { environment: production }
    approvers: [sre]
`;
/** The same rule, written differently: the hubs must count it as the same policy. */
const SRE_APPROVES_REFORMATTED = `# production needs an SRE
rules:
  - approvers: [ sre ]
    match:
      environment: production
    name: prod
`;
/** One rule more: a staging request this hub allows, the other refuses. */
const WITH_STAGING = `${SRE_APPROVES}
  - name: staging
    match: { environment: staging }
    autoApprove: true
`;
const DBA_APPROVES = SRE_APPROVES.replace('[sre]', '[dba]');

const digestOf = (text: string) => shortDigest(policyDigest(parsePolicy(text)));
/** What a hub without a public URL is shown as to the others: its host name and port, not the loopback address it listens on. */
const byHostName = (hub: TestHub) => `http://${os.hostname()}:${new URL(hub.url).port}`;
const PUBLIC_URL = 'https://greenlight.example.com';

interface LogLine {
  level: number;
  msg: string;
}

describe.skipIf(!pg.ok)(`hubs on one database that run different policies${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const logA = capturedLog<LogLine>('info');
  const logB = capturedLog<LogLine>('info');
  const hubA = new TestHub('postgres', { policy: SRE_APPROVES, logger: logA.logger });
  const hubB = new TestHub('postgres', { policy: WITH_STAGING, logger: logB.logger, publicUrl: PUBLIC_URL });
  const hubC = new TestHub('postgres', { policy: DBA_APPROVES });

  beforeAll(async () => {
    await startOnOneDatabase(hubA, hubB);
  });
  afterAll(async () => {
    await hubC.dispose();
    await hubB.dispose();
    await hubA.dispose();
  });

  const status = async (hub: TestHub) => {
    const { status: code, body } = await hub.api<SetupStatus>('GET', '/api/v1/setup', ADMIN_TOKEN);
    expect(code).toBe(200);
    return body;
  };
  const advertised = (hub: TestHub) => (hub === hubB ? PUBLIC_URL : byHostName(hub));
  const otherHub = (seen: SetupStatus, hub: TestHub) => seen.cluster?.hubs.find((entry) => entry.url === advertised(hub));
  const policyFile = (hub: TestHub) => path.resolve(hub.policyPath!);

  it("shows each hub's admin the other hub running another policy, and warns in the log naming both digests and files", async () => {
    const [a, b] = [digestOf(SRE_APPROVES), digestOf(WITH_STAGING)];
    const seenByA = await eventually(async () => {
      const seen = await status(hubA);
      return otherHub(seen, hubB) && seen;
    }, { what: "hub A to hear hub B's policy digest" });
    expect(seenByA.policy.digest).toBe(a);
    expect(otherHub(seenByA, hubB)).toMatchObject({ digest: b, file: policyFile(hubB), samePolicy: false });
    // Named by its public URL (hub B has one), and by its id, which hubs behind one public URL do not share.
    expect(seenByA.cluster?.hubs).toEqual([expect.objectContaining({ hub: expect.stringMatching(/.+/), host: os.hostname(), url: PUBLIC_URL })]);
    expect(seenByA.cluster?.policyWarning).toContain(`runs ${b} from ${policyFile(hubB)}`);
    expect(seenByA.cluster?.policyWarning).toContain('Deploy the same policy file to every hub');

    const seenByB = await eventually(async () => {
      const seen = await status(hubB);
      return otherHub(seen, hubA) && seen;
    }, { what: "hub B to hear hub A's policy digest" });
    expect(otherHub(seenByB, hubA)).toMatchObject({ digest: a, file: policyFile(hubA), samePolicy: false });
    expect(seenByB.cluster?.policyWarning).toContain(`runs ${a} from ${policyFile(hubA)}`);

    const warnedByA = logA.warnings().filter((line) => line.msg.includes('runs policy'));
    expect(warnedByA).toHaveLength(1);
    expect(warnedByA[0]!.msg).toContain(`this hub runs policy ${a} from ${policyFile(hubA)}, but the hub at`);
    expect(warnedByA[0]!.msg).toContain(`runs ${b} from ${policyFile(hubB)}`);
    expect(logB.warnings().filter((line) => line.msg.includes(`runs ${a} from ${policyFile(hubA)}`))).toHaveLength(1);
  });

  it('records the digest with the policy each hub loaded, and keeps both hubs ready while they disagree', async () => {
    const loaded = await hubB.api<{ events: { data: Record<string, unknown> }[] }>('GET', '/api/v1/audit?type=policy.loaded', ADMIN_TOKEN);
    expect(loaded.body.events.map((event) => event.data.digest)).toEqual(expect.arrayContaining([policyDigest(parsePolicy(SRE_APPROVES)), policyDigest(parsePolicy(WITH_STAGING))]));
    for (const hub of [hubA, hubB]) {
      expect((await hub.api('GET', '/readyz', null)).status).toBe(200);
      const metrics = await fetch(`${hub.url}/metrics`).then((response) => response.text());
      expect(metrics).toMatch(/^greenlight_policy_disagreeing_hubs 1$/m);
    }
  });

  it('clears the warning on both hubs once one of them reloads a file with the same rules', async () => {
    writeFileSync(hubB.policyPath!, SRE_APPROVES_REFORMATTED);
    for (const [hub, other] of [[hubB, hubA], [hubA, hubB]] as const) {
      const seen = await eventually(async () => {
        const now = await status(hub);
        return now.cluster?.policyWarning === null && now;
      }, { what: 'the policy warning to clear' });
      expect(otherHub(seen, other)).toMatchObject({ digest: digestOf(SRE_APPROVES), samePolicy: true });
    }
    expect(logA.lines().some((line) => line.msg.includes('runs the same policy as this one again'))).toBe(true);
    const metrics = await fetch(`${hubA.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/^greenlight_policy_disagreeing_hubs 0$/m);
  });

  it('lets a hub that joins later learn the digests of those already running, and forgets it once it stops', async () => {
    hubC.databaseUrl = hubA.databaseUrl;
    await hubC.start();
    const dba = digestOf(DBA_APPROVES);
    const seenByC = await eventually(async () => {
      const seen = await status(hubC);
      return seen.cluster?.hubs.length === 2 && seen;
    }, { what: 'the new hub to hear both others' });
    expect(seenByC.cluster?.hubs.map(({ url, digest, samePolicy }) => ({ url, digest, samePolicy }))).toEqual(
      expect.arrayContaining([
        { url: advertised(hubA), digest: digestOf(SRE_APPROVES), samePolicy: false },
        { url: advertised(hubB), digest: digestOf(SRE_APPROVES), samePolicy: false },
      ]),
    );
    await eventually(async () => otherHub(await status(hubA), hubC)?.digest === dba, { what: 'hub A to hear the new hub' });

    await hubC.stop();
    const seenByA = await eventually(async () => {
      const seen = await status(hubA);
      return !otherHub(seen, hubC) && seen;
    }, { what: 'hub A to forget the hub that stopped' });
    expect(seenByA.cluster).toMatchObject({ policyWarning: null, hubs: [expect.objectContaining({ url: advertised(hubB) })] });
  });
});

describe.skipIf(!pg.ok)(`hubs that lost track of each other for a while${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const hubA = new TestHub('postgres', { policy: SRE_APPROVES });
  let proxy: TcpProxy;
  let hubB: TestHub;

  beforeAll(async () => {
    await hubA.start();
    // Hub B hears and tells the others through a proxy to PostgreSQL; its own queries go directly.
    const direct = new URL(hubA.databaseUrl!);
    proxy = await new TcpProxy(Number(direct.port || 5432), direct.hostname).start();
    const listenUrl = new URL(direct);
    listenUrl.hostname = '127.0.0.1';
    listenUrl.port = String(proxy.port);
    hubB = new TestHub('postgres', { policy: WITH_STAGING, databaseListenUrl: listenUrl.toString() });
    hubB.databaseUrl = hubA.databaseUrl;
    await hubB.start();
  });
  afterAll(async () => {
    proxy?.restore();
    await hubB?.dispose();
    await hubA.dispose();
    await proxy?.close();
  });

  const hubsSeenBy = async (hub: TestHub) => (await hub.api<SetupStatus>('GET', '/api/v1/setup', ADMIN_TOKEN)).body.cluster?.hubs ?? [];

  it('learn each other\'s policies again once they hear each other again', async () => {
    await eventually(async () => (await hubsSeenBy(hubA)).some((hub) => hub.url === byHostName(hubB) && !hub.samePolicy), { what: 'hub A to hear hub B' });
    // Hub B can neither hear nor tell the others: past the heartbeat timeout each counts the other gone.
    proxy.cut();
    await eventually(async () => (await hubsSeenBy(hubA)).length === 0, { what: 'hub A to count hub B gone' });
    await eventually(async () => (await hubsSeenBy(hubB)).length === 0, { what: 'hub B to count hub A gone' });
    proxy.restore();
    await eventually(async () => (await hubsSeenBy(hubA)).some((hub) => hub.url === byHostName(hubB) && !hub.samePolicy), { what: "hub A to learn hub B's policy again" });
    await eventually(async () => (await hubsSeenBy(hubB)).some((hub) => hub.url === byHostName(hubA) && !hub.samePolicy), { what: "hub B to learn hub A's policy again" });
  }, 90_000 /* the adapter's heartbeat timeout (10 s) and its reconnect (1–3 s) come first */);
});
