import { z } from 'zod';
import { isoDate } from './audit.js';

/** The longest range one report covers: a year and a day, enough for a year-on-year look. */
export const REPORT_MAX_DAYS = 366;
export const REPORT_DEFAULT_DAYS = 30;

/**
 * `GET /api/v1/reports/decisions?from=&to=`: requests submitted in [from, to). Both optional: `to`
 * defaults to now, `from` to 30 days before `to`.
 */
export const decisionReportQuerySchema = z
  .strictObject({ from: isoDate.optional(), to: isoDate.optional() })
  .refine((query) => !query.from || !query.to || Date.parse(query.from) < Date.parse(query.to), {
    message: '"from" must be before "to"; swap them',
    path: ['from'],
  })
  .refine((query) => !query.from || !query.to || Date.parse(query.to) - Date.parse(query.from) <= REPORT_MAX_DAYS * 86_400_000, {
    message: `the range may span at most ${REPORT_MAX_DAYS} days; ask for several reports`,
    path: ['to'],
  });
export type DecisionReportQuery = z.infer<typeof decisionReportQuerySchema>;

const count = z.number().int().min(0);
const share = z.number().min(0).max(1);

/**
 * One policy rule's requests in the range. Time to decision runs from submission to the approval
 * or denial a person made; requests the policy approved by itself, and those that expired, were
 * cancelled or are still pending, have no such time and are counted apart.
 */
export const ruleDecisionStatsSchema = z.object({
  rule: z.string(),
  submitted: count,
  /** Approved or denied by people: the requests behind the median and 95th percentile. */
  decided: count,
  approved: count,
  denied: count,
  autoApproved: count,
  expired: count,
  cancelled: count,
  pending: count,
  /** Reached at least one escalation step, whatever happened after. */
  escalated: count,
  medianSeconds: z.number().min(0).nullable(),
  p95Seconds: z.number().min(0).nullable(),
  /** Of everything submitted under the rule. */
  escalatedShare: share,
  expiredShare: share,
  autoApprovedShare: share,
});
export type RuleDecisionStats = z.infer<typeof ruleDecisionStatsSchema>;

export const decisionReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  /** Busiest rule first. */
  rules: z.array(ruleDecisionStatsSchema),
});
export type DecisionReport = z.infer<typeof decisionReportSchema>;
