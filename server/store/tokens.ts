import type { Kysely, Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import { SCOPES, TOKEN_KINDS, type Scope, type TokenKind } from '../../protocol/index.js';
import type { Database, TokensTable } from './schema.js';
import { toUserRecord, type UserRecord } from './users.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** A token as the hub works with it: kind and scopes decoded; never the token itself, only its hash. */
export interface TokenRecord {
  hash: string;
  id: string;
  userId: string;
  name: string;
  kind: TokenKind;
  /** Null: every scope the user's role allows. */
  scopes: Scope[] | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

const kindSchema = z.enum(TOKEN_KINDS);
const scopesSchema = z.array(z.enum(SCOPES));

/** Rows written before tokens had ids get `tok_` and the start of their hash, as the migration gives them. */
const idOf = (row: Pick<TokensTable, 'id' | 'hash'>): string => row.id ?? `tok_${row.hash.slice(0, 24)}`;

export function toTokenRecord(row: Selectable<TokensTable>): TokenRecord {
  return {
    hash: row.hash,
    id: idOf(row),
    userId: row.user_id,
    name: row.name,
    kind: kindSchema.parse(row.kind),
    scopes: row.scopes === null ? null : scopesSchema.parse(JSON.parse(row.scopes)),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}

/** A token with the user who holds it. */
export interface OwnedToken {
  token: TokenRecord;
  owner: UserRecord;
}

const withOwners = (db: Executor) =>
  db
    .selectFrom('tokens')
    .innerJoin('users', 'users.id', 'tokens.user_id')
    .selectAll('users')
    .select([
      'tokens.hash as token_hash',
      'tokens.id as token_id',
      'tokens.name as token_name',
      'tokens.kind as token_kind',
      'tokens.scopes as token_scopes',
      'tokens.created_at as token_created_at',
      'tokens.expires_at as token_expires_at',
      'tokens.last_used_at as token_last_used_at',
    ]);

type OwnedRow = Awaited<ReturnType<ReturnType<typeof withOwners>['executeTakeFirstOrThrow']>>;

function toOwnedToken(row: OwnedRow): OwnedToken {
  const token = toTokenRecord({
    hash: row.token_hash,
    id: row.token_id,
    user_id: row.id,
    name: row.token_name,
    kind: row.token_kind,
    scopes: row.token_scopes,
    created_at: row.token_created_at,
    expires_at: row.token_expires_at,
    last_used_at: row.token_last_used_at,
  });
  return { token, owner: toUserRecord(row) };
}

/** The tokens (table `tokens`), each read with the user who holds it. */
export const tokenStore = {
  /**
   * The tokens with these hashes, each with its user (disabled or not) and their groups, in one
   * statement (on PostgreSQL each query is a round trip); unknown hashes are absent.
   */
  async withOwnersAndGroupsByHashes(db: Executor, tokenHashes: readonly string[]): Promise<Map<string, OwnedToken & { groups: string[] }>> {
    const found = new Map<string, OwnedToken & { groups: string[] }>();
    if (tokenHashes.length === 0) return found;
    const rows = await withOwners(db)
      .leftJoin('user_groups', 'user_groups.user_id', 'users.id')
      .select('user_groups.group_name')
      .where('tokens.hash', 'in', tokenHashes)
      .execute();
    for (const row of rows) {
      let entry = found.get(row.token_hash);
      if (!entry) found.set(row.token_hash, (entry = { ...toOwnedToken(row), groups: [] }));
      if (row.group_name !== null) entry.groups.push(row.group_name);
    }
    return found;
  },

  async withOwnerById(db: Executor, tokenId: string): Promise<OwnedToken | undefined> {
    const row = await withOwners(db).where('tokens.id', '=', tokenId).executeTakeFirst();
    return row && toOwnedToken(row);
  },

  /** A user's tokens, oldest first. */
  async ofUser(db: Executor, userId: string): Promise<OwnedToken[]> {
    return (await withOwners(db).where('tokens.user_id', '=', userId).orderBy('tokens.created_at').execute()).map(toOwnedToken);
  },

  async insert(db: Executor, token: Omit<TokenRecord, 'lastUsedAt'>): Promise<void> {
    await db
      .insertInto('tokens')
      .values({
        hash: token.hash,
        id: token.id,
        user_id: token.userId,
        name: token.name,
        kind: token.kind,
        scopes: token.scopes === null ? null : JSON.stringify(token.scopes),
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        last_used_at: null,
      })
      .execute();
  },

  async delete(db: Executor, tokenId: string): Promise<void> {
    await db.deleteFrom('tokens').where('id', '=', tokenId).execute();
  },
};
