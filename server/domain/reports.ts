import { sql, type Kysely, type RawBuilder } from 'kysely';
import { GreenlightError, REPORT_DEFAULT_DAYS, REPORT_MAX_DAYS, type DecisionReport, type DecisionReportQuery, type RuleDecisionStats } from '../../protocol/index.js';
import type { Dialect } from '../store/database.js';
import type { Database } from '../store/schema.js';

const DAY_MS = 86_400_000;

/** The rule name frozen onto each request (its `rule` column holds the rule as JSON text). */
function ruleName(dialect: Dialect): RawBuilder<string> {
  return dialect === 'postgres' ? sql<string>`(rule::json ->> 'name')` : sql<string>`json_extract(rule, '$.name')`;
}

/** Seconds from submission to decision; both columns are ISO-8601 UTC text. */
function secondsToDecision(dialect: Dialect): RawBuilder<number> {
  return dialect === 'postgres'
    ? sql<number>`extract(epoch from (decided_at::timestamptz - created_at::timestamptz))`
    : sql<number>`(julianday(decided_at) - julianday(created_at)) * 86400.0`;
}

/** Approved by the policy itself (`autoApprove`): decided_by is `policy:<rule>`, which no user name can be. */
const AUTO = sql`decided_by like 'policy:%'`;
/** Approved or denied by people: the requests that have a time to decision. */
const BY_PEOPLE = sql`status in ('approved', 'denied') and (decided_by is null or not (${AUTO}))`;

/** The range a query asks for, defaults filled in from the hub's clock. */
export function reportRange(query: DecisionReportQuery, now: Date): { from: string; to: string } {
  const to = query.to ? new Date(query.to) : now;
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - REPORT_DEFAULT_DAYS * DAY_MS);
  // The schema checks a range given in full; these catch one completed with "now".
  if (from >= to) throw new GreenlightError('INVALID_INPUT', `Invalid report range: from: must be before to (${to.toISOString()}); ask for an earlier "from"`);
  if (to.getTime() - from.getTime() > REPORT_MAX_DAYS * DAY_MS) {
    throw new GreenlightError('INVALID_INPUT', `Invalid report range: the range may span at most ${REPORT_MAX_DAYS} days; ask for several reports`);
  }
  return { from: from.toISOString(), to: to.toISOString() };
}

const PERCENTILES = { median: 50, p95: 95 } as const;

/**
 * Time to decision per rule over requests submitted in [from, to): the counts in one grouped query,
 * and the percentiles in one windowed query that returns only the (at most four) ranks each rule's
 * median and 95th percentile sit between. Both run the same on SQLite and PostgreSQL, so the work
 * stays in the database however many requests the range holds.
 */
export async function decisionReport(db: Kysely<Database>, dialect: Dialect, range: { from: string; to: string }): Promise<DecisionReport> {
  const inRange = sql`created_at >= ${range.from} and created_at < ${range.to}`;
  const counts = await sql<Record<'rule' | 'submitted' | 'decided' | 'approved' | 'denied' | 'auto_approved' | 'expired' | 'cancelled' | 'pending' | 'escalated', string | number>>`
    select rule, count(*) as submitted,
      sum(by_people) as decided,
      sum(case when status = 'approved' and by_people = 1 then 1 else 0 end) as approved,
      sum(case when status = 'denied' then 1 else 0 end) as denied,
      sum(auto) as auto_approved,
      sum(case when status = 'expired' then 1 else 0 end) as expired,
      sum(case when status = 'cancelled' then 1 else 0 end) as cancelled,
      sum(case when status = 'pending' then 1 else 0 end) as pending,
      sum(case when escalation_level > 0 then 1 else 0 end) as escalated
    from (
      select ${ruleName(dialect)} as rule, status, escalation_level,
        case when ${BY_PEOPLE} then 1 else 0 end as by_people,
        case when status = 'approved' and ${AUTO} then 1 else 0 end as auto
      from requests where ${inRange}
    ) r
    group by rule`.execute(db);

  // Linear interpolation between ranks lo and lo+1, lo = floor((n-1)p): integer arithmetic, so both databases agree.
  const rank = (p: number, plus: 1 | 2) => sql.raw(`((n - 1) * ${p}) / 100 + ${plus}`);
  const ranks = await sql<{ rule: string; n: string | number; rn: string | number; seconds: string | number }>`
    with timed as (
      select ${ruleName(dialect)} as rule, ${secondsToDecision(dialect)} as seconds
      from requests where ${inRange} and ${BY_PEOPLE}
    ), ranked as (
      select rule, seconds,
        row_number() over (partition by rule order by seconds) as rn,
        count(*) over (partition by rule) as n
      from timed
    )
    select rule, n, rn, seconds from ranked
    where rn in (${rank(PERCENTILES.median, 1)}, ${rank(PERCENTILES.median, 2)}, ${rank(PERCENTILES.p95, 1)}, ${rank(PERCENTILES.p95, 2)})`.execute(db);

  const byRank = new Map<string, { n: number; at: Map<number, number> }>();
  for (const row of ranks.rows) {
    const entry = byRank.get(row.rule) ?? { n: Number(row.n), at: new Map<number, number>() };
    entry.at.set(Number(row.rn), Number(row.seconds));
    byRank.set(row.rule, entry);
  }
  const interpolate = (rule: string, p: number): number | null => {
    const entry = byRank.get(rule);
    if (!entry) return null;
    const scaled = (entry.n - 1) * p;
    const low = Math.floor(scaled / 100);
    const lower = entry.at.get(low + 1);
    if (lower === undefined) return null;
    const upper = entry.at.get(low + 2) ?? lower;
    // Milliseconds are the precision the timestamps carry; julianday arithmetic adds noise below that.
    return Math.round((lower + ((scaled % 100) / 100) * (upper - lower)) * 1000) / 1000;
  };

  const rules: RuleDecisionStats[] = counts.rows.map((row) => {
    const n = (key: keyof typeof row) => Number(row[key] ?? 0);
    const rule = String(row.rule);
    const submitted = n('submitted');
    const ratio = (part: number) => (submitted ? part / submitted : 0);
    return {
      rule,
      submitted,
      decided: n('decided'),
      approved: n('approved'),
      denied: n('denied'),
      autoApproved: n('auto_approved'),
      expired: n('expired'),
      cancelled: n('cancelled'),
      pending: n('pending'),
      escalated: n('escalated'),
      medianSeconds: interpolate(rule, PERCENTILES.median),
      p95Seconds: interpolate(rule, PERCENTILES.p95),
      escalatedShare: ratio(n('escalated')),
      expiredShare: ratio(n('expired')),
      autoApprovedShare: ratio(n('auto_approved')),
    };
  });
  rules.sort((a, b) => b.submitted - a.submitted || a.rule.localeCompare(b.rule));
  return { from: range.from, to: range.to, rules };
}
