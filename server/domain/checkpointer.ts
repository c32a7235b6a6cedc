import { appendFileSync, closeSync, fsyncSync, openSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import { signCheckpoint, type Checkpoint, type TrustedCheckpointKey } from './checkpoints.js';
import { inTransaction, type Context } from './context.js';
import { SHARED_LOG_HINT } from './checkpoint-chains.js';
import { enqueueCheckpointNotifications } from '../notify/enqueue.js';

/** What an operator does when the database was set back on purpose, which a hub can't tell from a rewrite. */
const RESTORED_HINT = `If the database was restored from a backup on purpose, keep this hub's checkpoint log as evidence, move it aside and restart the hub: it then signs the restored chain (audit verify with the old log says what was lost).`;

/** The checkpoint key as the hub publishes it, and where its checkpoints go outside the database. */
export interface CheckpointSetup {
  publicKey: KeyObject;
  keyId: string;
  /** Keys this one replaced, each with the last event it may vouch for. */
  retired: TrustedCheckpointKey[];
  logFile: string;
  /** The operator said the log holds several databases' checkpoints (`--checkpoint-log-shared`). */
  logShared: boolean;
  checkpointer: Checkpointer;
}

export interface CheckpointerOptions {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Names this hub in the checkpoints it signs. */
  hubId: string;
  /** Sign once this many events were appended since the last checkpoint (default 1000). */
  everyEvents?: number;
  /** And every this often, when events were appended since (default 5 minutes). */
  intervalMs?: number;
  /** Each checkpoint is also appended here, one JSON line, outside the database. */
  logFile: string;
  /**
   * The last checkpoint this hub's log holds (null for a new log, or one shared by several databases):
   * the chain this hub signed before this start, remembered where someone with the database can't
   * change it.
   */
  signedBefore?: Checkpoint | null;
  /**
   * The log held nothing this hub signed, yet the database's chain already had events: the hub took
   * the database's chain id at its word, and can't have told a changed one from the real one.
   */
  withoutAnchor?: boolean;
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** A checkpoint not signed because the database's chain is not the one this hub signs: reported once when it starts, not at every attempt. */
export class ChainRefusedError extends Error {}

/**
 * Signs audit checkpoints: every N events, every M minutes that saw events, at shutdown, and at start
 * (what a hub killed before its shutdown checkpoint left unsigned, with this start's own events). A
 * checkpoint is written in a transaction that holds the chain head (the row lock every append takes
 * on PostgreSQL), for the head as it then is and only when it is past the latest checkpoint: with
 * several hubs each position is signed by whichever hub gets there first, once, and checkpoints
 * follow the one chain in order.
 */
export class Checkpointer {
  private readonly everyEvents: number;
  private lastSeq = 0;
  /** The chain this hub signs, from its log at start or its first checkpoint: a head on another chain is not signed. */
  private signedChainId: string | null;
  /** The last event this process signed: a head behind it lost events. (A backup restored between starts may be behind.) */
  private signedSeq: number | null = null;
  /** The hash of the event at `signedSeq` as this hub signed it: the chain must still pass through it. */
  private signedHash: string | null = null;
  /** Whether this process has signed yet (else what it signed is known from its log). */
  private signedHere = false;
  private refused: string | null = null;
  /** The database chain id the current refusal was reported for: a refusal is logged when it starts (or the id changes again), not at every attempt. */
  private reportedRefusal: string | null = null;
  private refusedChainId: string | null = null;
  /** What the refusal is about; with the chain id, what a new log line is written for. */
  private refusalKind: 'chain_id_changed' | 'events_rewritten' | null = null;
  private running: Promise<Checkpoint | null> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly ctx: Context,
    private readonly options: CheckpointerOptions,
  ) {
    this.everyEvents = options.everyEvents ?? 1000;
    this.signedChainId = options.signedBefore?.chainId ?? null;
    // Across restarts too: the chain must still pass through the last event this hub's log says it signed.
    this.signedSeq = options.signedBefore?.seq ?? null;
    this.signedHash = options.signedBefore?.hash ?? null;
  }

  /** Why the last attempt to sign was refused, the database's chain not being the one this hub signed (its id changed, or events it signed removed); null while it is. */
  get chainRefusal(): string | null {
    return this.refused;
  }

  /** Whether this hub started with nothing outside the database to tell which chain it signs (`withoutAnchor`). */
  get withoutAnchor(): boolean {
    return this.options.withoutAnchor ?? false;
  }

  async start(): Promise<void> {
    const latest = await this.ctx.store.db.selectFrom('audit_checkpoints').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
    this.lastSeq = Number(latest?.seq ?? 0);
    this.inBackground();
    this.timer = setInterval(() => this.inBackground(), this.options.intervalMs ?? 5 * 60_000);
    this.timer.unref();
  }

  /** Called after each commit that appended events. */
  chainAdvanced(seq: number): void {
    if (this.closed || seq - this.lastSeq < this.everyEvents) return;
    this.inBackground();
  }

  /** A refusal to sign was logged when it started (`write`); any other failure is logged here, each time. */
  private inBackground(what = 'cannot write an audit checkpoint'): void {
    void this.checkpoint().catch((error: unknown) => {
      if (!(error instanceof ChainRefusedError)) this.ctx.log.error({ err: error }, what);
    });
  }

  /** Signs the chain head now if it moved past the latest checkpoint; resolves with what was signed, or null. */
  checkpoint(): Promise<Checkpoint | null> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.write().finally(() => {
      this.running = null;
      if (this.again && !this.closed) {
        this.again = false;
        void this.checkpoint().catch(() => undefined);
      }
    });
    return this.running;
  }

  /** Stops the timer and signs a last checkpoint for what this hub leaves behind. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.closed = true;
    await this.running?.catch(() => undefined);
    await this.write().catch((error: unknown) => {
      if (!(error instanceof ChainRefusedError)) this.ctx.log.error({ err: error }, 'cannot write the shutdown audit checkpoint');
    });
  }

  private async write(): Promise<Checkpoint | null> {
    let signed: Checkpoint | null;
    try {
      signed = await inTransaction(this.ctx, (trx) => this.signHead(trx));
    } finally {
      this.reportRefusalChange();
    }
    if (!signed) return null;
    this.lastSeq = Math.max(this.lastSeq, signed.seq);
    this.signedChainId = signed.chainId;
    this.signedSeq = signed.seq;
    this.signedHash = signed.hash;
    this.signedHere = true;
    this.appendToLog(signed);
    this.ctx.log.info({ seq: signed.seq }, 'audit checkpoint signed');
    return signed;
  }

  private async signHead(trx: Transaction<Database>): Promise<Checkpoint | null> {
    let headQuery = trx.selectFrom('chain_head').select(['seq', 'hash', 'chain_id']).where('id', '=', 1);
    if (this.ctx.store.dialect === 'postgres') headQuery = headQuery.forUpdate();
    const head = await headQuery.executeTakeFirstOrThrow();
    const seq = Number(head.seq);
    const chainId = head.chain_id ?? '';
    // Signing such a head would vouch for a chain someone changed under this hub (its id replaced,
    // or its last events removed), and a later verify would find this hub's word on it.
    if (this.signedChainId !== null && this.signedChainId !== chainId) {
      const before = !this.signedHere && this.options.signedBefore ? ` (its checkpoint log ${this.options.logFile} ends with event ${this.options.signedBefore.seq} of it)` : '';
      this.refused = `the database's audit chain is now ${chainId || 'unnamed'}, but this hub signed chain ${this.signedChainId}${before}: its chain id was changed; not signing. ${capitalised(SHARED_LOG_HINT)}`;
      this.refusedChainId = chainId;
      this.refusalKind = 'chain_id_changed';
      throw new ChainRefusedError(this.refused);
    }
    const rewritten = await this.signedEventRewritten(trx, seq);
    if (rewritten) {
      this.refused = rewritten;
      this.refusedChainId = chainId;
      this.refusalKind = 'events_rewritten';
      throw new ChainRefusedError(this.refused);
    }
    this.refused = null;
    this.refusedChainId = null;
    this.refusalKind = null;
    const latest = await trx.selectFrom('audit_checkpoints').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
    const latestSeq = Number(latest?.seq ?? 0);
    if (seq <= latestSeq) {
      this.lastSeq = Math.max(this.lastSeq, latestSeq);
      return null;
    }
    const checkpoint = signCheckpoint(this.options.privateKey, this.options.publicKey, {
      seq,
      hash: head.hash,
      at: this.ctx.clock.now().toISOString(),
      hubId: this.options.hubId,
      chainId,
    });
    await trx
      .insertInto('audit_checkpoints')
      .values({ seq, hash: checkpoint.hash, at: checkpoint.at, hub_id: checkpoint.hubId, chain_id: checkpoint.chainId, key_id: checkpoint.keyId, signature: checkpoint.signature })
      .execute();
    await enqueueCheckpointNotifications(this.ctx, trx, checkpoint);
    return checkpoint;
  }

  /**
   * Why the chain no longer passes through the last event this hub signed, or null: the head moved
   * back behind it (events removed), or the event there has another hash (the history before it was
   * rewritten, even once enough new events carried the head past it again).
   */
  private async signedEventRewritten(trx: Transaction<Database>, headSeq: number): Promise<string | null> {
    if (this.signedSeq === null || this.signedHash === null) return null;
    if (headSeq < this.signedSeq) return `the database's audit chain head is at event ${headSeq}, but this hub already signed event ${this.signedSeq}: events were removed; not signing. ${RESTORED_HINT}`;
    const event = await trx.selectFrom('audit_events').select('hash').where('seq', '=', this.signedSeq).executeTakeFirst();
    if (event?.hash === this.signedHash) return null;
    return `the database's audit event ${this.signedSeq} is not the one this hub signed (its hash was ${this.signedHash.slice(0, 12)}…): events were removed or changed; not signing. ${RESTORED_HINT}`;
  }

  /**
   * Logs a refusal when it starts (or the database's chain id changes to yet another one), with what an
   * admin needs, and that it ended when the database's chain is again the one this hub signs. Between
   * the two, /readyz says so (`chainRefusal`); a line at every attempt would say nothing new.
   */
  private reportRefusalChange(): void {
    const refusal = this.refused === null ? null : `${this.refusalKind}:${this.refusedChainId}`;
    if (this.refused !== null && refusal !== this.reportedRefusal) {
      this.reportedRefusal = refusal;
      const what = this.refusalKind === 'events_rewritten' ? 'events this hub signed were removed or changed in the database' : "the database's audit chain id was changed";
      this.ctx.log.error(
        { databaseChainId: this.refusedChainId || null, signedChainId: this.signedChainId, signedSeq: this.signedSeq, checkpointLog: this.options.logFile, reason: this.refused },
        `not signing audit checkpoints: ${what} (logged once; /readyz reports auditCheckpoints failing until it is restored)`,
      );
    } else if (this.refused === null && this.reportedRefusal !== null) {
      this.reportedRefusal = null;
      this.ctx.log.info({ chainId: this.signedChainId }, "signing audit checkpoints again: the database's audit chain is again the one this hub signed");
    }
  }

  private appendToLog(checkpoint: Checkpoint): void {
    try {
      const fd = openSync(this.options.logFile, 'a', 0o600);
      try {
        appendFileSync(fd, `${JSON.stringify(checkpoint)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      this.ctx.log.error({ err: error, file: this.options.logFile }, 'cannot append to the checkpoint log; the checkpoint is in the database only');
    }
  }
}
