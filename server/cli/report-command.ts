import { Command, Option } from 'commander';
import { z } from 'zod';
import { decisionReportSchema, formatDuration, REPORT_MAX_DAYS, type DecisionReport, type RuleDecisionStats } from '../../protocol/index.js';
import { EXIT, usageError } from './cli-error.js';
import { action, type CliContext } from './context.js';
import { ADMIN_ONLY, addHubOptions, connect, durationFlag, parseFlags } from './options.js';
import { out, printJson, type Io } from './output.js';

const FORMATS = ['table', 'csv', 'json'] as const;
const reportFlags = z.object({
  hub: z.string().optional(),
  token: z.string().optional(),
  since: durationFlag.default(30 * 86_400),
  format: z.enum(FORMATS).default('table'),
});

const seconds = (value: number | null) => (value === null ? '—' : formatDuration(value));
const percent = (share: number) => `${Math.round(share * 100)}%`;

/** The report as an aligned text table, a line saying the range first. */
export function reportTable(report: DecisionReport): string[] {
  const range = `time to decision for requests submitted ${report.from} → ${report.to}`;
  if (report.rules.length === 0) return [range, 'no requests were submitted in this range'];
  const header = ['rule', 'submitted', 'decided', 'median', 'p95', 'escalated', 'expired', 'auto-approved'];
  const rows = report.rules.map((rule) => [
    rule.rule,
    String(rule.submitted),
    String(rule.decided),
    seconds(rule.medianSeconds),
    seconds(rule.p95Seconds),
    percent(rule.escalatedShare),
    percent(rule.expiredShare),
    percent(rule.autoApprovedShare),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [range, line(header), ...rows.map(line)];
}

const CSV_COLUMNS: [string, (rule: RuleDecisionStats) => string | number | null][] = [
  ['rule', (rule) => rule.rule],
  ['submitted', (rule) => rule.submitted],
  ['decided', (rule) => rule.decided],
  ['median_seconds', (rule) => rule.medianSeconds],
  ['p95_seconds', (rule) => rule.p95Seconds],
  ['escalated_share', (rule) => rule.escalatedShare],
  ['expired_share', (rule) => rule.expiredShare],
  ['auto_approved_share', (rule) => rule.autoApprovedShare],
  ['approved', (rule) => rule.approved],
  ['denied', (rule) => rule.denied],
  ['auto_approved', (rule) => rule.autoApproved],
  ['expired', (rule) => rule.expired],
  ['cancelled', (rule) => rule.cancelled],
  ['pending', (rule) => rule.pending],
  ['escalated', (rule) => rule.escalated],
];

/** Rule names start with a letter or digit and hold no comma or quote (the policy schema says so): only absent values need care. */
const csvCell = (value: string | number | null): string => (value === null ? '' : String(value));

/** One row per rule with raw numbers (seconds, shares 0–1): the form a spreadsheet wants. */
export function reportCsv(report: DecisionReport): string[] {
  return [CSV_COLUMNS.map(([name]) => name).join(','), ...report.rules.map((rule) => CSV_COLUMNS.map(([, value]) => csvCell(value(rule))).join(','))];
}

async function report(io: Io, command: Command): Promise<number> {
  const flags = parseFlags(reportFlags, command.opts());
  if (flags.since > REPORT_MAX_DAYS * 86_400) throw usageError(`--since: at most ${REPORT_MAX_DAYS}d`);
  const http = connect(io, flags, ADMIN_ONLY);
  // Both ends from this machine's clock, so the window is the one asked for even where the hub's clock differs.
  const now = Date.now();
  const query = { from: new Date(now - flags.since * 1000).toISOString(), to: new Date(now).toISOString() };
  const { data, raw } = await http.call('GET', '/api/v1/reports/decisions', decisionReportSchema, { query });
  if (flags.format === 'json') printJson(io, raw);
  else for (const line of flags.format === 'csv' ? reportCsv(data) : reportTable(data)) out(io, line);
  return EXIT.ok;
}

export function registerReportCommand(program: Command, ctx: CliContext): void {
  addHubOptions(
    program
      .command('report')
      .description('time to decision per policy rule (median, 95th percentile) and the shares escalated, expired and auto-approved; needs an admin token (--token, GREENLIGHT_TOKEN or GREENLIGHT_ADMIN_TOKEN)')
      .option('--since <duration>', `requests submitted this long ago or later, e.g. 7d, 12h (at most ${REPORT_MAX_DAYS}d)`, '30d')
      .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table')),
  ).action(action(ctx, (cmd) => report(ctx.io, cmd)));
}
