import { randomBytes } from 'node:crypto';
import { PostgresAdapter, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { unlinkSharedSlackMembers } from './unique-slack-members.js';
import { recordOidcSubjects } from './record-oidc-subjects.js';

/** Versioned migrations, written once for SQLite and PostgreSQL alike (text ids, text timestamps). */
const migrations: Record<string, Migration> = {
  '2026-11-24-001-initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('name', 'text', (col) => col.notNull().unique())
        .addColumn('roles', 'text', (col) => col.notNull())
        .addColumn('disabled', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('user_groups')
        .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
        .addColumn('group_name', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('user_groups_pk', ['user_id', 'group_name'])
        .execute();
      await db.schema.createIndex('user_groups_by_group').on('user_groups').columns(['group_name']).execute();
      await db.schema
        .createTable('tokens')
        .addColumn('hash', 'text', (col) => col.primaryKey())
        .addColumn('user_id', 'text', (col) => col.notNull().references('users.id'))
        .addColumn('created_at', 'text', (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('requests')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('requester_id', 'text', (col) => col.notNull().references('users.id'))
        .addColumn('requester_name', 'text', (col) => col.notNull())
        .addColumn('action', 'text', (col) => col.notNull())
        .addColumn('resource', 'text', (col) => col.notNull())
        .addColumn('environment', 'text', (col) => col.notNull())
        .addColumn('reason', 'text', (col) => col.notNull())
        .addColumn('risk', 'text', (col) => col.notNull())
        .addColumn('context', 'text', (col) => col.notNull())
        .addColumn('requested_ttl_seconds', 'integer')
        .addColumn('idempotency_key', 'text')
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('version', 'integer', (col) => col.notNull())
        .addColumn('rule', 'text', (col) => col.notNull())
        .addColumn('eligible_groups', 'text', (col) => col.notNull())
        .addColumn('eligible_users', 'text', (col) => col.notNull())
        .addColumn('escalation_level', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('next_escalation_at', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('claim_by', 'text')
        .addColumn('claim_until', 'text')
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('updated_at', 'text', (col) => col.notNull())
        .addColumn('decided_at', 'text')
        .addColumn('decided_by', 'text')
        .execute();
      await db.schema.createIndex('requests_idempotency').unique().on('requests').columns(['requester_id', 'idempotency_key']).execute();
      await db.schema.createIndex('requests_by_status').on('requests').columns(['status', 'created_at']).execute();
      await db.schema.createIndex('requests_by_requester').on('requests').columns(['requester_id', 'created_at']).execute();
      await db.schema
        .createTable('decisions')
        .addColumn('request_id', 'text', (col) => col.notNull().references('requests.id'))
        .addColumn('approver_id', 'text', (col) => col.notNull())
        .addColumn('approver_name', 'text', (col) => col.notNull())
        .addColumn('decision', 'text', (col) => col.notNull())
        .addColumn('comment', 'text')
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('decisions_pk', ['request_id', 'approver_id'])
        .execute();
      await db.schema
        .createTable('deadlines')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('kind', 'text', (col) => col.notNull())
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('grant_jti', 'text')
        .addColumn('step', 'integer')
        .addColumn('due_at', 'text', (col) => col.notNull())
        .addColumn('done', 'integer', (col) => col.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('deadlines_due').on('deadlines').columns(['done', 'due_at']).execute();
      await db.schema.createIndex('deadlines_by_request').on('deadlines').columns(['request_id']).execute();
      await db.schema
        .createTable('grants')
        .addColumn('jti', 'text', (col) => col.primaryKey())
        .addColumn('request_id', 'text', (col) => col.notNull().unique())
        .addColumn('requester_id', 'text', (col) => col.notNull())
        .addColumn('token', 'text', (col) => col.notNull())
        .addColumn('payload_hash', 'text', (col) => col.notNull())
        .addColumn('issued_at', 'text', (col) => col.notNull())
        .addColumn('not_before', 'text', (col) => col.notNull())
        .addColumn('expires_at', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('redeemed_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_by', 'text')
        .execute();
      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (col) => col.primaryKey())
        .addColumn('private_jwk', 'text', (col) => col.notNull())
        .addColumn('public_jwk', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('audit_events')
        .addColumn('seq', 'integer', (col) => col.primaryKey())
        .addColumn('at', 'text', (col) => col.notNull())
        .addColumn('actor', 'text', (col) => col.notNull())
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('request_id', 'text')
        .addColumn('action', 'text')
        .addColumn('resource', 'text')
        .addColumn('environment', 'text')
        .addColumn('outcome', 'text')
        .addColumn('data', 'text', (col) => col.notNull())
        .addColumn('prev_hash', 'text', (col) => col.notNull())
        .addColumn('hash', 'text', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('audit_by_request').on('audit_events').columns(['request_id', 'seq']).execute();
      await db.schema.createIndex('audit_by_resource').on('audit_events').columns(['resource', 'at']).execute();
      await db.schema.createIndex('audit_by_actor').on('audit_events').columns(['actor', 'at']).execute();
      await db.schema.createIndex('audit_by_time').on('audit_events').columns(['at']).execute();
      await db.schema
        .createTable('chain_head')
        .addColumn('id', 'integer', (col) => col.primaryKey())
        .addColumn('seq', 'integer', (col) => col.notNull())
        .addColumn('hash', 'text', (col) => col.notNull())
        .execute();
      await sql`insert into chain_head (id, seq, hash) values (1, 0, ${GENESIS_HASH})`.execute(db);
    },
  },
  // Most submissions carry no idempotency key; a partial index spares each of them an index entry.
  // Lookups by key (`idempotency_key = ?`) imply the index's condition, so both databases still use it.
  '2026-12-01-002-partial-idempotency-index': {
    async up(db: Kysely<unknown>) {
      await db.schema.dropIndex('requests_idempotency').execute();
      await db.schema
        .createIndex('requests_idempotency')
        .unique()
        .on('requests')
        .columns(['requester_id', 'idempotency_key'])
        .where(sql.ref('idempotency_key'), 'is not', null)
        .execute();
    },
  },
  // Pending requests are capped per requester and rule. A counter per pair keeps the check one
  // statement however many are pending; transition() counts down when a request leaves pending.
  '2026-12-03-010-pending-counts': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('pending_counts')
        .addColumn('requester_id', 'text', (col) => col.notNull())
        .addColumn('rule_name', 'text', (col) => col.notNull())
        .addColumn('pending', 'integer', (col) => col.notNull())
        .addPrimaryKeyConstraint('pending_counts_pk', ['requester_id', 'rule_name'])
        .execute();
      const pending = await sql<{ requester_id: string; rule: string }>`select requester_id, rule from requests where status = 'pending'`.execute(db);
      const counts = new Map<string, { requester: string; rule: string; pending: number }>();
      for (const row of pending.rows) {
        const rule = String((JSON.parse(row.rule) as { name?: unknown }).name ?? '');
        const key = JSON.stringify([row.requester_id, rule]);
        const entry = counts.get(key) ?? { requester: row.requester_id, rule, pending: 0 };
        entry.pending += 1;
        counts.set(key, entry);
      }
      for (const entry of counts.values()) {
        await sql`insert into pending_counts (requester_id, rule_name, pending) values (${entry.requester}, ${entry.rule}, ${entry.pending})`.execute(db);
      }
    },
  },
  // Admins see each user's email and when they last used the hub. SQLite adds one column per statement.
  '2026-12-10-003-user-email-last-seen': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('email', 'text').execute();
      await db.schema.alterTable('users').addColumn('last_seen_at', 'text').execute();
    },
  },
  // The notification outbox: one row per (event, destination), written in the transaction of the change
  // it announces, delivered after commit. A claim sets lease_until/lease_owner, so a hub that dies
  // mid-delivery leaves its rows to others once the lease runs out.
  '2026-12-03-003-notification-outbox': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('outbox')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('type', 'text', (col) => col.notNull())
        .addColumn('channel', 'text', (col) => col.notNull())
        .addColumn('destination', 'text', (col) => col.notNull())
        .addColumn('request_id', 'text')
        .addColumn('payload', 'text', (col) => col.notNull())
        .addColumn('status', 'text', (col) => col.notNull())
        .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (col) => col.notNull())
        .addColumn('lease_until', 'text')
        .addColumn('lease_owner', 'text')
        .addColumn('last_error', 'text')
        .addColumn('last_status', 'integer')
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('updated_at', 'text', (col) => col.notNull())
        .addColumn('delivered_at', 'text')
        .execute();
      await db.schema.createIndex('outbox_due').on('outbox').columns(['channel', 'destination', 'status', 'next_attempt_at']).execute();
      await db.schema.createIndex('outbox_by_status').on('outbox').columns(['status', 'id']).execute();
      // Endpoints a receiver turned off with 410 Gone, by the hash of the URL it answered at.
      await db.schema
        .createTable('notify_endpoints')
        .addColumn('channel', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('url_hash', 'text', (col) => col.notNull())
        .addColumn('disabled_at', 'text', (col) => col.notNull())
        .addColumn('reason', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('notify_endpoints_pk', ['channel', 'name'])
        .execute();
    },
  },
  // Chat: who a Slack user is here, every Slack message posted for a request (so any hub, after any
  // restart, updates them all), and the interactivity signatures seen lately (a replay is refused on
  // every hub). Signatures are kept only for the 5 minutes a timestamp is accepted, plus a margin.
  '2026-12-11-201-chat-messages': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('slack_user_id', 'text').execute();
      await db.schema.createIndex('users_slack_user_id').on('users').column('slack_user_id').execute();
      await db.schema
        .createTable('slack_messages')
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('channel_id', 'text', (col) => col.notNull())
        .addColumn('ts', 'text', (col) => col.notNull())
        .addColumn('target', 'text', (col) => col.notNull())
        .addColumn('slack_user_id', 'text')
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('slack_messages_pk', ['request_id', 'channel_id'])
        .execute();
      await db.schema
        .createTable('slack_seen_signatures')
        .addColumn('signature', 'text', (col) => col.primaryKey())
        .addColumn('expires_at', 'text', (col) => col.notNull())
        .execute();
    },
  },
  // `repeat: N` runs the escalation chain again: the round says which run escalation_level counts in.
  '2026-12-03-004-escalation-rounds': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('requests').addColumn('escalation_round', 'integer', (col) => col.notNull().defaultTo(0)).execute();
    },
  },
  // Approve and deny links sent by email: only the SHA-256 of each token is kept, bound to one request,
  // one approver and one decision; used_at makes it work once.
  '2026-12-11-101-email-actions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('email_actions')
        .addColumn('token_hash', 'text', (col) => col.primaryKey())
        .addColumn('notification_id', 'text', (col) => col.notNull())
        .addColumn('request_id', 'text', (col) => col.notNull())
        .addColumn('user_id', 'text', (col) => col.notNull())
        .addColumn('decision', 'text', (col) => col.notNull())
        .addColumn('expires_at', 'text', (col) => col.notNull())
        .addColumn('used_at', 'text')
        .addColumn('created_at', 'text', (col) => col.notNull())
        .execute();
      await db.schema.createIndex('email_actions_expiry').on('email_actions').column('expires_at').execute();
    },
  },
  // Scheduled access: when a request's access starts, and which grant an extension extends.
  '2026-12-11-601-scheduled-access': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('requests').addColumn('not_before', 'text').execute();
      await db.schema.alterTable('requests').addColumn('extends_jti', 'text').execute();
      await db.schema.createIndex('requests_by_extends').on('requests').column('extends_jti').execute();
    },
  },
  // Grant signing keys rotate: a retired key stays published while a grant it signed is unexpired,
  // so each grant records which key row signed it. Rows written before this were all signed by 'primary'.
  '2026-12-11-301-signing-key-rotation': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('signing_keys').addColumn('retired_at', 'text').execute();
      await db.schema.alterTable('grants').addColumn('signing_key', 'text').execute();
      await sql`update grants set signing_key = 'primary'`.execute(db);
    },
  },
  // Signed audit checkpoints: {seq, hash, at, hubId, chainId} signed with a key kept outside the database.
  // The chain id tells this database's checkpoints from another's in a checkpoint log both hubs wrote to.
  '2026-12-11-302-audit-checkpoints': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('chain_head').addColumn('chain_id', 'text').execute();
      await sql`update chain_head set chain_id = ${`chn_${randomBytes(12).toString('hex')}`}`.execute(db);
      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('seq', 'integer', (col) => col.primaryKey())
        .addColumn('hash', 'text', (col) => col.notNull())
        .addColumn('at', 'text', (col) => col.notNull())
        .addColumn('hub_id', 'text', (col) => col.notNull())
        .addColumn('chain_id', 'text', (col) => col.notNull())
        .addColumn('key_id', 'text', (col) => col.notNull())
        .addColumn('signature', 'text', (col) => col.notNull())
        .execute();
    },
  },
  // Per-group quorum (`require:` lines): the lines each approval may count toward, fixed when it is cast.
  '2026-12-11-500-decision-quorum-lines': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('decisions').addColumn('lines', 'text').execute();
    },
  },
  // Delegation while away: one approver's approvals go to one user for a window. A vote cast on
  // someone's behalf is stored under the delegator (one vote per underlying approver, the primary
  // key already says so) with the delegate who cast it.
  '2026-12-11-501-delegations': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('delegations')
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('from_id', 'text', (col) => col.notNull())
        .addColumn('from_name', 'text', (col) => col.notNull())
        .addColumn('to_id', 'text', (col) => col.notNull())
        .addColumn('to_name', 'text', (col) => col.notNull())
        .addColumn('starts_at', 'text', (col) => col.notNull())
        .addColumn('ends_at', 'text', (col) => col.notNull())
        .addColumn('rules', 'text')
        .addColumn('reason', 'text', (col) => col.notNull())
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('ended_at', 'text')
        .addColumn('ended_by', 'text')
        .execute();
      await db.schema.createIndex('delegations_to').on('delegations').columns(['to_id', 'ends_at']).execute();
      await db.schema.createIndex('delegations_from').on('delegations').columns(['from_id', 'ends_at']).execute();
      await db.schema.alterTable('decisions').addColumn('delegate_id', 'text').execute();
      await db.schema.alterTable('decisions').addColumn('delegate_name', 'text').execute();
    },
  },
  // Break-glass: each use waits for a reviewer to ratify it (or not) within its due time.
  '2026-12-11-502-break-glass-reviews': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('break_glass_reviews')
        .addColumn('request_id', 'text', (col) => col.primaryKey())
        .addColumn('requester_id', 'text', (col) => col.notNull())
        .addColumn('rule_name', 'text', (col) => col.notNull())
        .addColumn('incident', 'text', (col) => col.notNull())
        .addColumn('reviewers', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addColumn('due_at', 'text', (col) => col.notNull())
        .addColumn('outcome', 'text')
        .addColumn('reviewed_by', 'text')
        .addColumn('comment', 'text')
        .addColumn('reviewed_at', 'text')
        .execute();
      await db.schema.createIndex('break_glass_by_requester').on('break_glass_reviews').columns(['requester_id', 'created_at']).execute();
    },
  },
  // Named, scoped, expiring tokens for machines and sign-on sessions. Tokens made before this keep
  // working as they did: kind `user`, no expiry, every scope their user's role allows (scopes null).
  // Service users sign in with tokens only and never approve.
  '2026-12-11-701-scoped-tokens': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('tokens').addColumn('id', 'text').execute();
      await db.schema.alterTable('tokens').addColumn('name', 'text', (col) => col.notNull().defaultTo('initial')).execute();
      await db.schema.alterTable('tokens').addColumn('kind', 'text', (col) => col.notNull().defaultTo('user')).execute();
      await db.schema.alterTable('tokens').addColumn('scopes', 'text').execute();
      await db.schema.alterTable('tokens').addColumn('expires_at', 'text').execute();
      await db.schema.alterTable('tokens').addColumn('last_used_at', 'text').execute();
      await sql`update tokens set id = 'tok_' || substr(hash, 1, 24) where id is null`.execute(db);
      await db.schema.createIndex('tokens_by_id').unique().on('tokens').columns(['id']).execute();
      await db.schema.createIndex('tokens_by_user').on('tokens').columns(['user_id', 'created_at']).execute();
      await db.schema.alterTable('users').addColumn('service', 'integer', (col) => col.notNull().defaultTo(0)).execute();
    },
  },
  // Single sign-on: a user signed in through the identity provider is found again by its subject;
  // a sign-in under way is a row (state, PKCE verifier, nonce) used once, so any hub may finish it.
  '2026-12-11-702-oidc-sign-in': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('oidc_subject', 'text').execute();
      await db.schema.createIndex('users_by_oidc_subject').unique().on('users').columns(['oidc_subject']).execute();
      await db.schema
        .createTable('oidc_logins')
        .addColumn('state', 'text', (col) => col.primaryKey())
        .addColumn('verifier', 'text', (col) => col.notNull())
        .addColumn('nonce', 'text', (col) => col.notNull())
        .addColumn('desktop_redirect', 'text')
        .addColumn('desktop_challenge', 'text')
        .addColumn('created_at', 'text', (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('oidc_handoffs')
        .addColumn('code_hash', 'text', (col) => col.primaryKey())
        .addColumn('user_id', 'text', (col) => col.notNull())
        .addColumn('challenge', 'text', (col) => col.notNull())
        .addColumn('expires_at', 'text', (col) => col.notNull())
        .execute();
    },
  },
  // Break-glass alerts to several Slack channels in one delivery: each channel already alerted is
  // recorded, so a retry of the delivery pages only those it missed.
  '2026-12-11-801-slack-alerts-posted': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('slack_alerts_posted')
        .addColumn('notification_id', 'text', (col) => col.notNull())
        .addColumn('channel_id', 'text', (col) => col.notNull())
        .addColumn('created_at', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('slack_alerts_posted_pk', ['notification_id', 'channel_id'])
        .execute();
    },
  },
  // Disabling a user revokes their active grants, found by requester while the audit chain's head is held.
  '2026-12-12-901-grants-by-requester': {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('grants_by_requester').on('grants').columns(['requester_id', 'status']).execute();
    },
  },
  // Grant tokens are sealed from now on; each start seals the unexpired ones still in plain, found by
  // expiry. A hub from before sealing does not know this migration, so it refuses to start here.
  '2026-12-13-101-grants-by-expiry': {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('grants_by_expiry').on('grants').column('expires_at').execute();
    },
  },
  // A token made only to submit reads back the requests it submitted itself, no others of its owner's.
  '2026-12-14-101-requests-submitted-with-token': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('requests').addColumn('submitted_with_token', 'text').execute();
    },
  },
  // A Slack click decides as the user its member id is linked to, so one member is one user. A
  // member an older database links to several users is unlinked from each (audited) first, so the
  // index can be made and the hub starts; one transaction, so a failure leaves the links as they were.
  '2026-12-15-101-unique-slack-members': {
    async up(db: Kysely<unknown>) {
      const work = async (trx: Kysely<unknown>) => {
        await unlinkSharedSlackMembers(trx, new Date(), trx.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite');
        await trx.schema.dropIndex('users_slack_user_id').execute();
        await trx.schema.createIndex('users_slack_user_id').unique().on('users').column('slack_user_id').execute();
      };
      // PostgreSQL runs each migration in a transaction already; SQLite's adapter does not.
      await (db.isTransaction ? work(db) : db.transaction().execute(work));
    },
  },
  // Work with an outside effect that must happen once across hubs (a Slack post) is claimed in a row
  // with a lease, instead of under an advisory lock that kept a transaction, and so one of the hub's
  // pooled connections, open for as long as the outside service took to answer.
  '2026-12-16-101-exclusive-claims': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('exclusive_claims')
        .addColumn('key', 'text', (col) => col.primaryKey())
        .addColumn('owner', 'text', (col) => col.notNull())
        .addColumn('lease_until', 'text', (col) => col.notNull())
        .execute();
    },
  },
  // A review a delegate closed names the reviewer they stood in for, so whatever reads the review
  // (a second reviewer refused, a chase no longer due) says "dana for sue". Reviews closed before
  // take it from their audit event, which has always said it: the review and its history then agree.
  '2026-12-17-101-break-glass-reviewed-for': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('break_glass_reviews').addColumn('reviewed_for', 'text').execute();
      const reviewed = await sql<{ request_id: string; data: string }>`
        select request_id, data from audit_events
        where type = 'request.reviewed' and request_id in (select request_id from break_glass_reviews where outcome is not null)
        order by seq`.execute(db);
      // The last event of each request is the review that closed it.
      const reviewedFor = new Map<string, string | null>();
      for (const row of reviewed.rows) reviewedFor.set(row.request_id, onBehalfOfIn(row.data));
      for (const [requestId, name] of reviewedFor) {
        if (name !== null) await sql`update break_glass_reviews set reviewed_for = ${name} where request_id = ${requestId}`.execute(db);
      }
    },
  },
  // A delegation's end is a deadline, so claims its delegate made for the delegator are released when
  // it runs out, not left to lapse. Delegations from before get one too: those not over yet, and those
  // over whose delegate still holds a claim (it fires at the first start, and releases what it alone backed).
  '2026-12-17-102-delegation-end-deadlines': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('deadlines').addColumn('delegation_id', 'text').execute();
      // Ending a delegation early closes its end by it.
      await db.schema.createIndex('deadlines_by_delegation').on('deadlines').columns(['delegation_id']).execute();
      const now = new Date().toISOString();
      await sql`
        insert into deadlines (id, kind, request_id, grant_jti, delegation_id, step, due_at, done)
        select 'ddl_end_' || id, 'delegation_end', '', null, id, null, ends_at, 0 from delegations
        where ended_at is null
          and (ends_at > ${now} or to_name in (select claim_by from requests where status = 'pending' and claim_by is not null))
      `.execute(db);
    },
  },
  // A delegate of several approvers gets a pair of email links per approver: the one a link decides
  // for is kept with its token's hash, so nobody can change it by editing the link.
  '2026-12-17-103-email-actions-on-behalf-of': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('email_actions').addColumn('on_behalf_of', 'text').execute();
    },
  },
  // A request a delegate decided names the approver they decided for, so whatever names who decided
  // (a second decider refused, a chat message, an email link's page) says "dana for sue". Requests
  // decided before take it from the deciding vote, which has always recorded it: one person casts one
  // vote on a request, so a vote the decider cast as a delegate is the one that decided.
  '2026-12-18-101-requests-decided-for': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('requests').addColumn('decided_for', 'text').execute();
      await sql`
        update requests set decided_for = (
          select d.approver_name from decisions d
          where d.request_id = requests.id and d.delegate_name = requests.decided_by
          order by d.created_at desc limit 1)
        where status in ('approved', 'denied') and decided_by is not null`.execute(db);
    },
  },
  // Audit verify pages through the submissions, grant issues and delegation events for rows that
  // should exist; without an index by type each page scanned the log until it had found enough.
  '2026-12-19-101-audit-by-type': {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('audit_by_type').on('audit_events').columns(['type', 'seq']).execute();
    },
  },
  // Sign-ins now record the subject they link a user to, and audit verify holds the column against
  // the log; the subjects older hubs linked unrecorded are recorded once here, so they are not findings.
  '2026-12-20-101-oidc-subjects-recorded': {
    async up(db: Kysely<unknown>) {
      const work = (trx: Kysely<unknown>) => recordOidcSubjects(trx, new Date(), trx.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite');
      // PostgreSQL runs each migration in a transaction already; SQLite's adapter does not.
      await (db.isTransaction ? work(db) : db.transaction().execute(work));
    },
  },
};

/** The reviewer a delegate's review was for, from its audit event's data; null for one made as oneself, or unreadable data. */
function onBehalfOfIn(data: string): string | null {
  try {
    const parsed: unknown = JSON.parse(data);
    const name = parsed && typeof parsed === 'object' && 'onBehalfOf' in parsed ? parsed.onBehalfOf : null;
    return typeof name === 'string' && name.length > 0 ? name : null;
  } catch {
    return null;
  }
}

export const GENESIS_HASH = '0'.repeat(64);

/** Every migration this version of the hub knows, oldest first (names sort by date). */
export const MIGRATION_NAMES: readonly string[] = Object.keys(migrations).sort();

export const MIGRATION_TABLE = 'greenlight_migrations';
export const MIGRATION_LOCK_TABLE = 'greenlight_migrations_lock';

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
