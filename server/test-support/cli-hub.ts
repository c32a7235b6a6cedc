import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cli } from './cli-process.js';
import { HubDataDir, HubProcess } from './hub-process.js';

/** The policy the CLI's tests run their hub with. */
export const TEST_POLICY = `
rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
    minApprovals: 1
    grantTtl: 15m
  - name: staging
    match: { environment: staging }
    autoApprove: true
  - name: databases
    match: { action: db-open }
    approvers: [dba]
`;

/**
 * A hub for the CLI's tests: a HubProcess with its own data folder, policy and admin token, restartable
 * on the same port with its data kept, and users added through `greenlight user add`.
 */
export class CliHub {
  readonly adminToken = `glt_${randomBytes(24).toString('base64url')}`;
  private readonly data: HubDataDir;
  private readonly process: HubProcess;

  /** `databaseUrl` puts the hub on PostgreSQL, passed the way operators do: GREENLIGHT_DATABASE_URL. */
  constructor(policy = TEST_POLICY, databaseUrl?: string) {
    this.data = new HubDataDir(policy);
    this.process = new HubProcess(this.data.args, { GREENLIGHT_ADMIN_TOKEN: this.adminToken, ...(databaseUrl ? { GREENLIGHT_DATABASE_URL: databaseUrl } : {}) });
  }

  get url(): string {
    return this.process.url;
  }

  get port(): number {
    return this.process.port;
  }

  get dataDir(): string {
    return this.data.path;
  }

  /** Starts (or restarts, keeping the data folder) the hub; port 0 picks a free one. */
  async start(port = 0): Promise<void> {
    await this.process.start(port);
  }

  /** Environment for a CLI call as the user holding `token`. */
  as(token: string): Record<string, string> {
    return { GREENLIGHT_HUB: this.url, GREENLIGHT_TOKEN: token };
  }

  get admin(): Record<string, string> {
    return this.as(this.adminToken);
  }

  /** Creates a user through `greenlight user add` and returns their token. */
  async addUser(name: string, roles: string[], groups: string[] = []): Promise<string> {
    const args = ['user', 'add', name, ...roles.flatMap((role) => ['--role', role]), ...groups.flatMap((group) => ['--group', group])];
    const result = await cli(args, this.admin);
    if (result.code !== 0) throw new Error(`user add ${name} failed (${result.code}): ${result.stderr}`);
    return result.stdout.trim();
  }

  /** SIGTERM, then the hub's exit status. */
  stop(): Promise<number | null> {
    return this.process.stop();
  }

  /** SIGKILL: the hub dies without closing anything, as in a crash. */
  kill(): Promise<void> {
    return this.process.kill();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.data.path, { recursive: true, force: true });
  }
}
