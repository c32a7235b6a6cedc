import type { Generated } from 'kysely';

/**
 * Column types are what both SQLite and PostgreSQL store and return the same way:
 * text ids, ISO-8601 text timestamps (fixed width, so they sort), 0/1 integers for flags,
 * JSON as text. Conversion to domain types happens in the store layer only.
 */
export interface UsersTable {
  id: string;
  name: string;
  roles: string;
  disabled: number;
  created_at: string;
  email: string | null;
  /** Written at most once a minute per user, after the call that used the token. */
  last_seen_at: string | null;
  /** The Slack member id (U…) whose clicks count as this user's. */
  slack_user_id: string | null;
  /** 1 for a machine account: tokens only, never an approver. */
  service: number;
  /** The identity provider's `sub` for a user who signs in with it; null for users made by hand. */
  oidc_subject: string | null;
}

/** A sign-in through the identity provider under way; used once. */
export interface OidcLoginsTable {
  state: string;
  verifier: string;
  nonce: string;
  /** The desktop app's loopback address to hand the result to (with the app's state, if it sent one), and its PKCE challenge. */
  desktop_redirect: string | null;
  desktop_challenge: string | null;
  created_at: string;
}

/** A finished sign-in waiting for the desktop app to fetch its session with the PKCE verifier. */
export interface OidcHandoffsTable {
  code_hash: string;
  user_id: string;
  challenge: string;
  expires_at: string;
}

export interface UserGroupsTable {
  user_id: string;
  group_name: string;
}

export interface TokensTable {
  hash: string;
  /** Null only in a row written before tokens had ids, until the migration that adds them runs. */
  id: string | null;
  user_id: string;
  name: string;
  /** user | api | session (protocol TOKEN_KINDS) */
  kind: string;
  /** JSON list of scopes; null means every scope the user's role allows. */
  scopes: string | null;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface RequestsTable {
  id: string;
  requester_id: string;
  requester_name: string;
  action: string;
  resource: string;
  environment: string;
  reason: string;
  risk: string;
  context: string;
  requested_ttl_seconds: number | null;
  idempotency_key: string | null;
  status: string;
  version: number;
  rule: string;
  eligible_groups: string;
  eligible_users: string;
  escalation_level: number;
  /** Which run of the escalation chain escalation_level counts in (0 first; `repeat` adds runs). */
  escalation_round: number;
  next_escalation_at: string | null;
  expires_at: string | null;
  claim_by: string | null;
  claim_until: string | null;
  created_at: string;
  updated_at: string;
  decided_at: string | null;
  /** Who decided it: the user who cast the deciding vote (a delegate's own name), who cancelled it, the hub, or `policy:<rule>`. */
  decided_by: string | null;
  /** The approver a delegate (`decided_by`) decided for; null when nobody decided for anyone, and on requests decided before it was kept. */
  decided_for: string | null;
  /** When access is to start (RFC 3339, UTC); null: on approval. */
  not_before: string | null;
  /** The grant this request extends, if it is an extension. */
  extends_jti: string | null;
  /** The token that submitted it (null: an email link, a Slack click, or from before this was kept). */
  submitted_with_token: string | null;
}

export interface DecisionsTable {
  request_id: string;
  approver_id: string;
  approver_name: string;
  decision: string;
  comment: string | null;
  created_at: string;
  /** JSON list of the `require:` lines (groups) this approval may count toward; null under `minApprovals`. */
  lines: string | null;
  /** Who cast this vote on the approver's behalf, under a delegation; null when the approver voted. */
  delegate_id: string | null;
  delegate_name: string | null;
}

export interface BreakGlassReviewsTable {
  request_id: string;
  requester_id: string;
  rule_name: string;
  incident: string;
  /** JSON list of the groups whose members may review it. */
  reviewers: string;
  created_at: string;
  due_at: string;
  /** null while open; 'ratified' or 'unratified'. */
  outcome: string | null;
  reviewed_by: string | null;
  /** The reviewer a delegate (`reviewed_by`) reviewed for; null when a reviewer reviewed as themselves, and on reviews closed before it was kept. */
  reviewed_for: string | null;
  comment: string | null;
  reviewed_at: string | null;
}

export interface DelegationsTable {
  id: string;
  from_id: string;
  from_name: string;
  to_id: string;
  to_name: string;
  starts_at: string;
  ends_at: string;
  /** JSON list of rule names the delegation covers; null: every rule. */
  rules: string | null;
  reason: string;
  created_by: string;
  created_at: string;
  ended_at: string | null;
  ended_by: string | null;
}

export interface DeadlinesTable {
  id: string;
  kind: string;
  request_id: string;
  grant_jti: string | null;
  delegation_id: string | null;
  step: number | null;
  due_at: string;
  done: number;
}

export interface GrantsTable {
  jti: string;
  request_id: string;
  requester_id: string;
  token: string;
  payload_hash: string;
  issued_at: string;
  not_before: string;
  expires_at: string;
  status: string;
  redeemed_at: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  /** The signing_keys row that signed it. */
  signing_key: string | null;
}

export interface SigningKeysTable {
  kid: string;
  /** `enc:v1:…`: encrypted with the key-encryption key from outside the database (plain JWK before that existed). */
  private_jwk: string;
  public_jwk: string;
  created_at: string;
  /** Set when rotated out: published until every grant it signed has expired, then deleted. */
  retired_at: string | null;
}

export interface AuditEventsTable {
  seq: number;
  at: string;
  actor: string;
  type: string;
  request_id: string | null;
  action: string | null;
  resource: string | null;
  environment: string | null;
  outcome: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface ChainHeadTable {
  id: number;
  seq: number;
  hash: string;
  /** Random, set once per database: names the chain its checkpoints vouch for. */
  chain_id: string | null;
}

/** How many requests each requester has pending under each rule (the cap's counter). */
export interface PendingCountsTable {
  requester_id: string;
  rule_name: string;
  pending: number;
}

export interface OutboxTable {
  id: string;
  type: string;
  channel: string;
  destination: string;
  request_id: string | null;
  /** The body exactly as sent, so every attempt carries the same bytes. */
  payload: string;
  /** pending | delivered | failed (dead-lettered, or its endpoint was disabled) */
  status: string;
  attempts: number;
  next_attempt_at: string;
  lease_until: string | null;
  lease_owner: string | null;
  last_error: string | null;
  last_status: number | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface AuditCheckpointsTable {
  seq: number;
  hash: string;
  at: string;
  hub_id: string;
  chain_id: string;
  /** Thumbprint of the checkpoint public key that signed it. */
  key_id: string;
  /** base64url Ed25519 signature of the canonical JSON {seq, hash, at, hubId, chainId}. */
  signature: string;
}

export interface NotifyEndpointsTable {
  channel: string;
  name: string;
  url_hash: string;
  disabled_at: string;
  reason: string;
}

export interface EmailActionsTable {
  token_hash: string;
  notification_id: string;
  request_id: string;
  user_id: string;
  /** `approve` or `deny`. */
  decision: string;
  /** The approver a delegate's link decides for; null: as the recipient, or for their one delegator. */
  on_behalf_of: string | null;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

/** A Slack message posted for a request: `chat.update` rewrites each one when the request changes. */
export interface SlackMessagesTable {
  request_id: string;
  channel_id: string;
  ts: string;
  /** The policy target it was posted for: `slack:#ops`, `slack:dm`. */
  target: string;
  /** For a direct message: whose. */
  slack_user_id: string | null;
  created_at: string;
}

/** An interactivity signature accepted lately; a second one within the window is a replay. */
export interface SlackSeenSignaturesTable {
  signature: string;
  expires_at: string;
}

/** An urgent alert posted to one Slack channel for one outbox delivery: a retry of the delivery skips it. */
export interface SlackAlertsPostedTable {
  /** The outbox row that asked for the alert. */
  notification_id: string;
  channel_id: string;
  created_at: string;
}

export interface ExclusiveClaimsTable {
  /** What is claimed, such as `slack:<request id>:<target>`. */
  key: string;
  /** The hub process doing it. */
  owner: string;
  /** Until when no other hub may take it over; the holder extends it as it goes. */
  lease_until: string;
}

export interface Database {
  users: UsersTable;
  user_groups: UserGroupsTable;
  tokens: TokensTable;
  requests: RequestsTable;
  pending_counts: PendingCountsTable;
  decisions: DecisionsTable;
  delegations: DelegationsTable;
  break_glass_reviews: BreakGlassReviewsTable;
  deadlines: DeadlinesTable;
  grants: GrantsTable;
  signing_keys: SigningKeysTable;
  audit_events: AuditEventsTable;
  chain_head: ChainHeadTable;
  audit_checkpoints: AuditCheckpointsTable;
  outbox: OutboxTable;
  notify_endpoints: NotifyEndpointsTable;
  oidc_logins: OidcLoginsTable;
  oidc_handoffs: OidcHandoffsTable;
  email_actions: EmailActionsTable;
  slack_messages: SlackMessagesTable;
  slack_seen_signatures: SlackSeenSignaturesTable;
  slack_alerts_posted: SlackAlertsPostedTable;
  exclusive_claims: ExclusiveClaimsTable;
}

export type { Generated };
