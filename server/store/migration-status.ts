import { sql, type Kysely } from 'kysely';
import { MIGRATION_NAMES, MIGRATION_TABLE } from './migrations.js';

export interface MigrationStatus {
  /** Known to this hub and applied. */
  applied: string[];
  /** Known to this hub, not applied yet. */
  pending: string[];
  /** Applied by some other (newer) version of the hub: this one must not run on the database. */
  unknown: string[];
}

/** The names of the migrations recorded in the database; none when it has never been migrated. */
async function appliedNames<DB>(db: Kysely<DB>): Promise<string[]> {
  try {
    const { rows } = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db);
    return rows.map((row) => row.name);
  } catch (error) {
    // A database no hub has migrated yet has no table; anything else (an unreachable server) is a real failure.
    const code = (error as { code?: unknown }).code;
    if (code === '42P01' || /no such table/i.test((error as Error).message)) return [];
    throw error;
  }
}

export async function migrationStatus<DB>(db: Kysely<DB>): Promise<MigrationStatus> {
  const applied = await appliedNames(db);
  const done = new Set(applied);
  const known = new Set(MIGRATION_NAMES);
  return {
    applied: MIGRATION_NAMES.filter((name) => done.has(name)),
    pending: MIGRATION_NAMES.filter((name) => !done.has(name)),
    unknown: applied.filter((name) => !known.has(name)),
  };
}

/** The database was migrated by a newer hub; this one would misread it, so it refuses to start. */
export class DatabaseNewerError extends Error {
  constructor(
    readonly location: string,
    readonly unknown: string[],
  ) {
    super(
      `the database ${location} was migrated by a newer version of Greenlight (migration${unknown.length === 1 ? '' : 's'} this version does not know: ${unknown.join(', ')}); ` +
        'run that version or a newer one, or restore a backup taken before the upgrade',
    );
    this.name = 'DatabaseNewerError';
  }
}
