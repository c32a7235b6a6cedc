import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { DelegateIndex } from './domain/delegate-index.js';
import { createLogger } from './logger.js';
import { OpenedOnStart } from './opened-on-start.js';
import { createMetrics } from './metrics.js';
import { IDLE_IN_TRANSACTION_TIMEOUT, openStore } from './store/database.js';
import { outboxStore } from './store/outbox.js';
import { HubBus } from './domain/bus.js';
import { PolicyHolder } from './domain/policy.js';
import { shortDigest } from './domain/policy-digest.js';
import { ensureStarterPolicy } from './domain/starter-policy.js';
import { warnOfPolicyProblems } from './domain/policy-problems.js';
import { GroupCommit } from './domain/group-commit.js';
import { Turns } from './domain/turns.js';
import { ViewCache } from './domain/view-cache.js';
import { tokenLookups } from './identity/token-lookups.js';
import { ActorCache } from './domain/actor-cache.js';
import { LastSeen } from './domain/last-seen.js';
import { audit, inTransaction, type Context } from './domain/context.js';
import { SigningKeyRing } from './domain/signing-keys.js';
import { sealedKeysMemory } from './keys/sealed-keys-marker.js';
import { GrantTokenSeal } from './keys/grant-token-seal.js';
import { sealPlainGrantTokens } from './domain/seal-plain-grant-tokens.js';
import type { CheckpointSetup } from './domain/checkpointer.js';
import { loadHubKeyFiles, setUpCheckpoints } from './evidence-setup.js';
import { bootstrapAdmin } from './domain/users.js';
import { SYSTEM_ACTOR_NAME } from './domain/actor.js';
import { Scheduler } from './scheduler.js';
import { buildHttpApp } from './transport/http-app.js';
import type { OidcSettings } from './auth/oidc/config.js';
import { OidcSignIn } from './auth/oidc/sign-in.js';
import { attachSocketServer } from './transport/socket.js';
import { Waiters } from './transport/waiters.js';
import { wakeWaitersOnPeerEvent } from './transport/cross-hub-wake.js';
import { checkHearsNotifications } from './transport/hearing-check.js';
import { attachClusterAdapter, type ClusterMembership } from './transport/cluster-adapter.js';
import { exchangePolicyDigests } from './transport/policy-gossip.js';
import { pushClusterStatus } from './transport/cluster-status-pushes.js';
import { PolicyAgreement } from './domain/policy-agreement.js';
import { FailedAuthentications } from './transport/failed-authentications.js';
import type { RouteRecord } from './transport/openapi.js';
import { checkReadiness } from './readiness.js';
import { builtConsoleDir } from './project-root.js';
import type { NotifiersConfig } from './notify/config.js';
import { createOutbox } from './notify/outbox.js';
import { attachChannels } from './notify/attach-channels.js';
import { Dispatcher } from './notify/dispatcher.js';
import { emailActionKey } from './notify/email-tokens.js';
import { detached } from './detached.js';
import { advertisedUrl } from './advertised-url.js';

export interface HubOptions {
  /** How long a client may take to send one whole request; 30 s by default. */
  requestTimeoutMs?: number;
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  /** Where the events hubs send each other are listened for, when `databaseUrl` goes through a transaction-mode pooler. */
  databaseListenUrl?: string;
  policyFile?: string;
  /** Used for the `admin` user on first start (GREENLIGHT_ADMIN_TOKEN). */
  adminToken?: string;
  logLevel?: string;
  logger?: Logger;
  print?: (line: string) => void;
  rateLimitPerMinute?: number;
  /** Failed authentications audited per source address and minute; past it they are refused unrecorded. Default 60. */
  failedAuthPerMinute?: number;
  /** Behind a load balancer that sets X-Forwarded-For: count and audit clients by the address it reports. */
  trustProxy?: boolean;
  /** One info log line per HTTP request (method, route pattern, status, duration, user). Default on. */
  accessLog?: boolean;
  clock?: Clock;
  /** Socket.IO heartbeat (defaults 25 s and 20 s): a client silent for their sum is dropped, and drops the hub likewise. */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** The built web console; defaults to renderer/dist when it exists. */
  consoleDir?: string | null;
  sqliteSync?: 'NORMAL' | 'FULL';
  /**
   * PostgreSQL: how often a long-poll reads its request again, a backstop for a decision made on
   * another hub whose message was lost (hubs tell each other at once otherwise). Default 1000 ms.
   */
  waitPollMs?: number;
  /** The `notifiers:` section of the hub configuration: webhooks, email, Slack, Teams and their secrets. */
  notifiers?: NotifiersConfig;
  /** Where people reach this hub, for links in messages; default the address it listens on. */
  publicUrl?: string;
  /** The `oidc:` section of the hub configuration, its secret resolved: single sign-on for the console and the desktop app. */
  oidc?: OidcSettings;
  /** How long a dispatcher's claim on a notification keeps other hubs off it (default 60 s). */
  notificationLeaseMs?: number;
  /** The Ed25519 key audit checkpoints are signed with, outside the data directory; created on first start. */
  checkpointKeyFile?: string;
  /** Public keys (PEM, one or more) of checkpoint keys the current one replaced: what they signed still verifies. */
  retiredCheckpointKeysFile?: string;
  /** The AES-256 key the grant signing keys are encrypted with in the database; created on first start. */
  keyEncryptionKeyFile?: string;
  /** Where checkpoints are appended outside the database (default <data-dir>/checkpoints.jsonl). */
  checkpointLogFile?: string;
  /** The checkpoint log is shared by hubs of several databases: it then can't say which chain this hub signed before. */
  checkpointLogShared?: boolean;
  /** A checkpoint every this many events (default 1000)... */
  checkpointEveryEvents?: number;
  /** ...and every this often when events were appended (default 5 minutes). */
  checkpointIntervalMs?: number;
  /** How often a hub on PostgreSQL reads the signing keys again, to follow a rotation made on another hub (default 5 s). */
  keyRefreshMs?: number;
  /** How often delegations are read again besides when a hub announces a change (default 30 s). */
  delegateRefreshMs?: number;
  /** PostgreSQL: how long a session may sit idle inside a transaction before the database ends it (default 30s). */
  idleInTransactionTimeout?: string;
}


export interface RunningHub {
  url: string;
  port: number;
  ctx: Context;
  scheduler: Scheduler;
  /** Every HTTP route, and whether it is documented in /openapi.json. */
  routes: readonly RouteRecord[];
  dispatcher: Dispatcher;
  checkpoints: CheckpointSetup;
  close(): Promise<void>;
}

/** Without --policy: the starter policy in the data directory, written on the first start, and the line that says so. */
function starterPolicy(dataDir: string): { file: string; note: string } {
  const { file, created } = ensureStarterPolicy(dataDir);
  const note = created
    ? `No --policy given: wrote a starter policy to ${file} (every action needs one approval from a member of group "approvers"; commented examples show the rest). Edit it; the hub reloads it.`
    : `No --policy given: using ${file}`;
  return { file, note };
}

export async function startHub(options: HubOptions): Promise<RunningHub> {
  const log = options.logger ?? createLogger(options.logLevel);
  const clock = options.clock ?? systemClock;
  const print = options.print ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bus = new HubBus((error, event) => log.error({ err: error, event: event.type }, 'a listener failed on a committed change; the change stands and the other listeners heard of it'));
  const metrics = createMetrics();

  // Notifier secrets are resolved first: a missing one stops the start, naming its key.
  const outbox = createOutbox(options.notifiers, clock, options.publicUrl ?? null);

  // The policy is read before anything else: a broken file stops the start with its reason.
  const starter = options.policyFile === undefined && options.dataDir ? starterPolicy(options.dataDir) : null;
  const policyFile = options.policyFile ?? starter?.file;
  let ctxRef: Context | null = null;
  // Set once the hub has joined the others on its database: a reload is then compared and announced.
  let policyReloaded: () => void = () => undefined;
  const policy = new PolicyHolder(policyFile ?? null, (outcome) => {
    if (outcome.ok) log.info({ rules: outcome.rules, file: policyFile, digest: shortDigest(outcome.digest) }, 'policy reloaded');
    else log.error({ error: outcome.error }, 'policy change rejected; keeping the previous policy');
    if (outcome.ok) policyReloaded();
    const ctx = ctxRef;
    if (!ctx) return;
    if (outcome.ok) detached(log, 'checking the reloaded policy', () => warnOfPolicyProblems(ctx));
    void inTransaction(ctx, (trx) =>
      audit(ctx, trx, {
        actor: SYSTEM_ACTOR_NAME,
        type: outcome.ok ? 'policy.loaded' : 'policy.rejected',
        outcome: outcome.ok ? 'loaded' : 'rejected',
        data: outcome.ok ? { file: policyFile, rules: outcome.rules, digest: outcome.digest } : { file: policyFile, error: outcome.error },
      }),
    ).catch((error: unknown) => log.error({ err: error }, 'cannot audit the policy reload'));
  }, { webhooks: outbox.webhookNames, email: outbox.email !== null, teams: outbox.teamsNames, slack: outbox.slack !== null });

  // Keys from outside the database come first: a missing or unreadable one stops the start, naming its file.
  const { checkpointKey, retiredCheckpointKeys, kek, warnings: keyWarnings } = loadHubKeyFiles(options);

  // Before anything is opened: a hub that could not hear the others stops here, naming the fix.
  if (options.databaseUrl) await checkHearsNotifications(options.databaseListenUrl ?? options.databaseUrl);
  const store = await openStore({
    dataDir: options.dataDir,
    databaseUrl: options.databaseUrl,
    sqliteSync: options.sqliteSync,
    backgroundCheckpoint: log,
    idleInTransactionTimeout: options.idleInTransactionTimeout ?? IDLE_IN_TRANSACTION_TIMEOUT,
  });
  // What the start opens from here on is closed again, newest first, if a later step fails (a port
  // already taken, say): nothing is left holding the database, its connections or a timer.
  const opened = new OpenedOnStart(log);
  opened.add(() => store.close());
  opened.add(() => outbox.close());
  opened.add(() => policy.close());
  try {
    let scheduler: Scheduler | null = null;
    const grantTokens = new GrantTokenSeal(kek.key, (grant, where) =>
      log.warn({ jti: grant.jti, requestId: grant.requestId }, `a grant token ${where} did not open with this hub's key-encryption key; its requester gets the grant without it`),
    );
    const keys = await SigningKeyRing.load(store.db, kek.key, kek.file, sealedKeysMemory(kek.key, kek.file), clock, {
      refused: ({ message, ...refusal }) => log.error(refusal, message),
      sealedLegacy: (fields, message) => log.info(fields, message),
    });
    const sealed = await sealPlainGrantTokens(store.db, grantTokens, clock.now());
    if (sealed) log.info({ grants: sealed }, 'sealed the grant tokens an earlier version stored in plain (those not yet expired)');
    if (outbox.email) outbox.email.tokenKey = emailActionKey(kek.key);
    const ctx: Context = {
      store,
      clock,
      log,
      policy,
      bus,
      keys,
      grantTokens,
      actors: store.dialect === 'sqlite' ? new ActorCache() : null,
      tokens: tokenLookups(store.db),
      lastSeen: new LastSeen(store.db, log),
      submissions: new GroupCommit((work) => inTransaction(ctx, work)),
      turns: new Turns(),
      views: new ViewCache(),
      deadlineWritten: (dueAt) => scheduler?.deadlineWritten(dueAt),
      outbox,
      delegates: new DelegateIndex(store.db, clock, options.delegateRefreshMs),
    };
    opened.add(() => ctx.delegates?.close());
    ctxRef = ctx;
    const evidence = await setUpCheckpoints(ctx, checkpointKey, retiredCheckpointKeys, options);
    const checkpoints: CheckpointSetup = evidence.setup;
    const checkpointer = checkpoints.checkpointer;
    for (const warning of [...keyWarnings, ...evidence.warnings]) log.warn(warning);
    attachChannels(outbox, ctx);
    scheduler = new Scheduler(ctx, {
      maxSleepMs: store.dialect === 'postgres' ? 1000 : undefined,
      onFired: (kind, lagMs) => {
        metrics.deadlinesFired.inc({ kind });
        metrics.deadlineLag.observe(Math.max(0, lagMs) / 1000);
      },
    });

    const dispatcher = new Dispatcher(ctx, outbox, {
      leaseMs: options.notificationLeaseMs,
      maxSleepMs: store.dialect === 'postgres' ? 1000 : 5000,
      onOutcome: (channel, outcome, lagMs) => {
        metrics.notifications.inc({ channel, outcome });
        if (lagMs !== null) metrics.notificationLag.observe(Math.max(0, lagMs) / 1000);
      },
    });
    metrics.setOutboxDepthReader(() => outboxStore.pendingCount(store.db));

    await inTransaction(ctx, (trx) =>
      audit(ctx, trx, { actor: SYSTEM_ACTOR_NAME, type: 'policy.loaded', outcome: 'loaded', data: { file: policyFile ?? null, rules: policy.current().rules.length, digest: policy.digest() } }),
    );
    await bootstrapAdmin(ctx, { envToken: options.adminToken, dataDir: options.databaseUrl ? undefined : options.dataDir, print });
    await warnOfPolicyProblems(ctx);

    const waiters = new Waiters(bus);
    opened.add(() => waiters.close());
    const rateLimitPerMinute = options.rateLimitPerMinute ?? 6000;
    const routes: RouteRecord[] = [];
    const failedAuthentications = new FailedAuthentications(ctx, metrics, options.failedAuthPerMinute ?? 60);
    // The listening address is known only once listening: the callback URL is read when a sign-in starts.
    let listeningUrl = '';
    const oidc = options.oidc ? new OidcSignIn(ctx, options.oidc, () => `${(options.publicUrl ?? listeningUrl).replace(/\/+$/, '')}/auth/oidc/callback`) : null;
    const app = await buildHttpApp({
      oidc,
      requestTimeoutMs: options.requestTimeoutMs,
      ctx,
      metrics,
      waiters,
      rateLimitPerMinute,
      failedAuthentications,
      trustProxy: options.trustProxy ?? false,
      // Another hub may decide a request this one has a long-poll for; look again this often.
      waitPollMs: store.dialect === 'postgres' ? (options.waitPollMs ?? 1000) : null,
      consoleDir: options.consoleDir === undefined ? builtConsoleDir() : options.consoleDir,
      healthy: async () => {
        try {
          await sql`select 1`.execute(store.db);
          return true;
        } catch {
          return false;
        }
      },
      ready: () => checkReadiness(store, scheduler ?? { isRunning: false }, checkpointer),
      accessLog: options.accessLog ?? true,
      routes,
      checkpoints,
    });
    opened.add(() => app.close());
    const sockets = attachSocketServer(app.server, ctx, metrics, { rateLimitPerMinute, failedAuthentications, trustProxy: options.trustProxy ?? false, pingIntervalMs: options.pingIntervalMs, pingTimeoutMs: options.pingTimeoutMs, pushes: { clustered: Boolean(options.databaseUrl), heardFromPeer: wakeWaitersOnPeerEvent(waiters) } });
    let cluster: ClusterMembership | null = null;
    // The sockets first, as in `close()`: closing them releases the adapter's LISTEN connection, which
    // the adapter's pool would otherwise wait on.
    opened.add(async () => {
      await sockets.close();
      await cluster?.close();
    });
    // Hubs sharing a database sign what they tell each other with a key only they hold.
    cluster = options.databaseUrl ? await attachClusterAdapter(sockets.io, options.databaseListenUrl ?? options.databaseUrl, kek.key, log, (reason) => sockets.mayHaveMissed(reason)) : null;
    await app.listen({ port: options.port ?? 7300, host: options.host ?? '127.0.0.1' });
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;

    outbox.publicUrl ??= url;
    listeningUrl = url;
    if (cluster) {
      const membership = cluster;
      const agreement = new PolicyAgreement(
        () => ({ hub: membership.hubId, host: os.hostname(), url: advertisedUrl(options.publicUrl, address.port), digest: policy.digest(), file: policyFile ? path.resolve(policyFile) : null }),
        log,
      );
      ctx.peerPolicies = agreement;
      ctx.ownClockAheadMs = () => membership.clock.ownClockAheadMs();
      metrics.setPolicyDisagreementReader(() => agreement.disagreeing());
      metrics.setClockOffsetReader(() => (membership.clock.ownClockAheadMs() ?? Number.NaN) / 1000);
      opened.add(pushClusterStatus(sockets.io, agreement, membership.clock));
      const gossip = exchangePolicyDigests(sockets.io, membership, agreement, log);
      policyReloaded = () => {
        agreement.ownChanged();
        gossip.announce();
      };
    }
    await scheduler.start();
    opened.add(() => scheduler?.stop());
    await ctx.delegates?.refresh();
    ctx.delegates?.start((error) => log.warn({ err: error }, 'could not refresh delegations'));
    await dispatcher.start();
    opened.add(() => dispatcher.stop());
    await checkpointer.start();
    opened.add(() => checkpointer.close());
    // Another hub on the database may rotate the signing key: follow it.
    const keyRefresh = options.databaseUrl
      ? setInterval(() => void keys.refresh().catch((error: unknown) => log.error({ err: error }, 'cannot read the signing keys again')), options.keyRefreshMs ?? 5000)
      : null;
    keyRefresh?.unref();
    opened.add(() => keyRefresh && clearInterval(keyRefresh));
    policy.watch();
    // Said once the hub is up, so a start that fails still ends with its one line of reason.
    if (starter) print(starter.note);
    log.info({ url, database: store.location, dialect: store.dialect }, 'hub started');

    let closing: Promise<void> | null = null;
    return {
      url,
      port: address.port,
      ctx,
      scheduler,
      routes,
      dispatcher,
      checkpoints,
      close() {
        closing ??= (async () => {
          policy.close();
          if (keyRefresh) clearInterval(keyRefresh);
          ctx.delegates?.close();
          waiters.close();
          await scheduler?.stop();
          await dispatcher.stop();
          outbox.close();
          // Stop taking HTTP requests and let in-flight ones (answered long-polls included) finish,
          // then close the sockets, and the database last. Sockets are dropped at the transport, not
          // told "disconnect": clients read that as being signed out, and a restart is no sign-out.
          sockets.dropConnections();
          // Keep-alive connections turn idle only once their last request is answered (a long-poll
          // may be): close them as they do, or the server would wait out the keep-alive timeout.
          const reapIdle = setInterval(() => app.server.closeIdleConnections(), 50);
          await app.close().finally(() => clearInterval(reapIdle));
          // Socket events already read are answered too, and what they commit is pushed to the other
          // hubs while this one is still part of the cluster.
          await sockets.finishHandling();
          cluster?.leaving();
          await sockets.close();
          await cluster?.close();
          await ctx.submissions.idle();
          await ctx.lastSeen.flush();
          // After the last write of this hub: what it leaves behind is signed.
          await checkpointer.close();
          await store.close();
          log.info('hub stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await opened.closeAll();
    throw error;
  }
}
