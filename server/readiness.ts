import { sql } from 'kysely';
import type { Store } from './store/database.js';
import { migrationStatus } from './store/migration-status.js';
import { withTimeout } from './with-timeout.js';

export type CheckResult = 'ok' | 'failing' | 'skipped';

export interface Readiness {
  ready: boolean;
  checks: { database: CheckResult; migrations: CheckResult; scheduler: CheckResult; auditCheckpoints: CheckResult };
  /** Why the hub is not ready, in words an operator can act on. */
  reason?: string;
  /**
   * What an operator should act on while the hub still serves: it refuses to sign an audit chain whose
   * id was changed (`foreign_checkpoints`), or it started with nothing outside the database to tell the
   * chain it signs by, so it could not have noticed such a change (`unanchored_chain`).
   */
  warning?: { kind: ReadinessWarningKind; message: string };
}

export const READINESS_WARNING_KINDS = ['foreign_checkpoints', 'unanchored_chain'] as const;
export type ReadinessWarningKind = (typeof READINESS_WARNING_KINDS)[number];

/**
 * What anyone asking /readyz is told of a refusal to sign: that there is one and where to look. The
 * refusal itself (the log's path, both chain ids, the last event signed) is for the hub's log and
 * admins' `audit verify`, not for whoever changed the database to read back.
 */
export const CHAIN_REFUSED =
  "This hub is not signing audit checkpoints: the database's audit chain is not the one it signed. Its log says why; an admin can run `greenlight audit verify`.";

/** As `CHAIN_REFUSED`: that there is something to look at, not the log's path nor the chain id. */
export const CHAIN_UNANCHORED =
  "This hub started with no audit checkpoint of its own in its checkpoint log, so it signs whichever audit chain the database holds and could not notice a changed one. Its log says how to give it another hub's checkpoint log; an admin can run `greenlight audit verify`.";

/** How long the database gets to answer before the hub calls itself not ready. */
const DATABASE_TIMEOUT_MS = 2_000;

const firstLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/**
 * Ready means able to do the job, not merely alive (that is /healthz): the database answers, its
 * schema is the one this hub was built for, and the scheduler is firing deadlines. A hub refusing to
 * sign audit checkpoints (the database's chain id is not the one it signed) still decides requests:
 * taking every hub out of rotation would let whoever changed the database stop approvals too. It
 * stays ready and says so in `auditCheckpoints` and `warning`.
 */
export async function checkReadiness(store: Store, scheduler: { isRunning: boolean }, checkpointer: { chainRefusal: string | null; withoutAnchor: boolean }): Promise<Readiness> {
  const refusal = checkpointer.chainRefusal;
  const checks: Readiness['checks'] = { database: 'skipped', migrations: 'skipped', scheduler: scheduler.isRunning ? 'ok' : 'failing', auditCheckpoints: refusal ? 'failing' : 'ok' };
  const warning = refusal
    ? { warning: { kind: 'foreign_checkpoints' as const, message: CHAIN_REFUSED } }
    : checkpointer.withoutAnchor
      ? { warning: { kind: 'unanchored_chain' as const, message: CHAIN_UNANCHORED } }
      : {};
  try {
    await withTimeout(sql`select 1`.execute(store.db), DATABASE_TIMEOUT_MS, 'the database');
    checks.database = 'ok';
  } catch (error) {
    checks.database = 'failing';
    return { ready: false, checks, reason: `The hub cannot reach its database (${store.location}): ${firstLine(error)}.` };
  }
  try {
    const status = await withTimeout(migrationStatus(store.db), DATABASE_TIMEOUT_MS, 'the database');
    checks.migrations = status.pending.length || status.unknown.length ? 'failing' : 'ok';
    if (status.pending.length) return { ready: false, checks, reason: `The database schema is behind this hub: ${status.pending.join(', ')} not applied yet.` };
    if (status.unknown.length) return { ready: false, checks, reason: `The database was migrated by a newer hub (${status.unknown.join(', ')}).` };
  } catch (error) {
    checks.migrations = 'failing';
    return { ready: false, checks, reason: `Cannot read the database's migrations: ${firstLine(error)}.` };
  }
  if (!scheduler.isRunning) return { ready: false, checks, reason: 'The scheduler is not running (the hub is starting or stopping), so deadlines would not fire.' };
  return { ready: true, checks, ...warning };
}
