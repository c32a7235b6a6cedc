import type { Kysely, Transaction } from 'kysely';
import { whoDecided } from '../../protocol/index.js';
import { decodeOneOf, decodeStringList } from './json.js';
import type { Database, BreakGlassReviewsTable } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export type ReviewOutcome = 'ratified' | 'unratified';

/** A break-glass use and its review, as the hub works with it: reviewers a list, the outcome one of the two or null while open. */
export interface BreakGlassReviewRecord {
  requestId: string;
  requesterId: string;
  ruleName: string;
  incident: string;
  /** The groups whose members review it. */
  reviewers: string[];
  createdAt: string;
  dueAt: string;
  outcome: ReviewOutcome | null;
  reviewedBy: string | null;
  /** The reviewer a delegate (`reviewedBy`) reviewed for; null when a reviewer reviewed as themselves. */
  reviewedFor: string | null;
  comment: string | null;
  reviewedAt: string | null;
}

/** The `reviewers` column holds a JSON list of group names; anything else is a damaged database, and says so. */
export function decodeReviewers(text: string): string[] {
  return decodeStringList(text, 'break-glass reviewers', 'groups');
}

const decodeOutcome = decodeOneOf<ReviewOutcome>(['ratified', 'unratified'], 'break-glass review outcome');

export function decodeReviewOutcome(text: string | null): ReviewOutcome | null {
  return text === null ? null : decodeOutcome(text);
}

/** Who closed a review, as people read it: "dana for sue" when a delegate did, "sue" when the reviewer did; null while open. */
export function whoReviewed(review: Pick<BreakGlassReviewRecord, 'reviewedBy' | 'reviewedFor'>): string | null {
  return whoDecided({ decidedBy: review.reviewedBy, decidedFor: review.reviewedFor ?? undefined });
}

export function toBreakGlassReviewRecord(row: BreakGlassReviewsTable): BreakGlassReviewRecord {
  return {
    requestId: row.request_id,
    requesterId: row.requester_id,
    ruleName: row.rule_name,
    incident: row.incident,
    reviewers: decodeReviewers(row.reviewers),
    createdAt: row.created_at,
    dueAt: row.due_at,
    outcome: decodeReviewOutcome(row.outcome),
    reviewedBy: row.reviewed_by,
    reviewedFor: row.reviewed_for,
    comment: row.comment,
    reviewedAt: row.reviewed_at,
  };
}

/** Break-glass uses and their reviews (table `break_glass_reviews`): records in, records out. */
export const breakGlassReviewStore = {
  /** A use just made, open for review until `dueAt`. */
  async insert(db: Executor, review: Pick<BreakGlassReviewRecord, 'requestId' | 'requesterId' | 'ruleName' | 'incident' | 'reviewers' | 'createdAt' | 'dueAt'>): Promise<void> {
    await db
      .insertInto('break_glass_reviews')
      .values({
        request_id: review.requestId,
        requester_id: review.requesterId,
        rule_name: review.ruleName,
        incident: review.incident,
        reviewers: JSON.stringify(review.reviewers),
        created_at: review.createdAt,
        due_at: review.dueAt,
        outcome: null,
        reviewed_by: null,
        reviewed_for: null,
        comment: null,
        reviewed_at: null,
      })
      .execute();
  },

  async ofRequest(db: Executor, requestId: string): Promise<BreakGlassReviewRecord | undefined> {
    const row = await db.selectFrom('break_glass_reviews').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    return row && toBreakGlassReviewRecord(row);
  },

  /** A use of this person's that was not ratified, or is open past its due time at `now`. */
  async owedBy(db: Executor, requesterId: string, now: string): Promise<Pick<BreakGlassReviewRecord, 'requestId' | 'outcome' | 'dueAt'> | undefined> {
    const row = await db
      .selectFrom('break_glass_reviews')
      .select(['request_id', 'outcome', 'due_at'])
      .where('requester_id', '=', requesterId)
      .where((eb) => eb.or([eb('outcome', '=', 'unratified'), eb.and([eb('outcome', 'is', null), eb('due_at', '<=', now)])]))
      .executeTakeFirst();
    return row && { requestId: row.request_id, outcome: decodeReviewOutcome(row.outcome), dueAt: row.due_at };
  },

  /** When this person last used break-glass under this rule after `since`, if they did. */
  async lastUseSince(db: Executor, requesterId: string, ruleName: string, since: string): Promise<string | undefined> {
    const row = await db.selectFrom('break_glass_reviews').select('created_at').where('requester_id', '=', requesterId).where('rule_name', '=', ruleName).where('created_at', '>', since).orderBy('created_at', 'desc').executeTakeFirst();
    return row?.created_at;
  },

  /** Closes a use: `reviewedFor` names the reviewer a delegate stood in for, null when a reviewer reviewed as themselves. */
  async close(db: Executor, requestId: string, review: { outcome: ReviewOutcome; reviewedBy: string; reviewedFor: string | null; comment: string; reviewedAt: string }): Promise<void> {
    await db
      .updateTable('break_glass_reviews')
      .set({ outcome: review.outcome, reviewed_by: review.reviewedBy, reviewed_for: review.reviewedFor, comment: review.comment, reviewed_at: review.reviewedAt })
      .where('request_id', '=', requestId)
      .execute();
  },

  /** The open uses of everyone but this person, with their request's version (what a sync chooses by). */
  async openNotBy(db: Executor, requesterId: string): Promise<{ id: string; version: number; reviewers: string[] }[]> {
    const open = await db
      .selectFrom('break_glass_reviews')
      .innerJoin('requests', 'requests.id', 'break_glass_reviews.request_id')
      .select(['requests.id', 'requests.version', 'break_glass_reviews.reviewers'])
      .where('break_glass_reviews.outcome', 'is', null)
      .where('break_glass_reviews.requester_id', '!=', requesterId)
      .execute();
    return open.map((item) => ({ id: item.id, version: item.version, reviewers: decodeReviewers(item.reviewers) }));
  },
};
