import type { Command } from 'commander';
import { z } from 'zod';
import { delegationIdSchema, delegationListSchema, delegationSchema, LIMITS, type Delegation } from '../../protocol/index.js';
import { EXIT } from './cli-error.js';
import { action, argument, type CliContext } from './context.js';
import { addHubOptions, collect, connect, parseFlags } from './options.js';
import { note, out, printJson } from './output.js';
import { withBreaksSpelledOut } from '../../protocol/plain-text.js';

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_AND_TIME = /^(\d{4})-(\d{2})-(\d{2})T/;

/** A date and time as given, if its day is one the calendar has (Date would roll 02-31 into March). */
function givenInstant(text: string): Date | null {
  const day = DATE_AND_TIME.exec(text);
  if (!day || !localDay(day, 0)) return null;
  return new Date(text);
}

/** Local midnight starting that day, `after` days on; null for a day the calendar does not have (2026-02-31). */
function localDay(day: RegExpExecArray, after: number): Date | null {
  const [year, month, date] = [Number(day[1]), Number(day[2]) - 1, Number(day[3])];
  const start = new Date(year, month, date);
  if (start.getFullYear() !== year || start.getMonth() !== month || start.getDate() !== date) return null;
  return new Date(year, month, date + after);
}

/** `2026-12-31` means through that day where the command runs (until the next local midnight); a full date-time is taken as given. */
const instantFlag = z.string().transform((text, ctx) => {
  const day = DATE_ONLY.exec(text);
  const date = day ? localDay(day, 1) : givenInstant(text);
  if (!date || Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'expected a date (2026-12-31) or a date and time (2026-12-31T18:00:00Z)' });
    return z.NEVER;
  }
  return date.toISOString();
});
const startFlag = z.string().transform((text, ctx) => {
  const day = DATE_ONLY.exec(text);
  const date = day ? localDay(day, 0) : givenInstant(text);
  if (!date || Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'expected a date (2026-12-24) or a date and time (2026-12-24T18:00:00Z)' });
    return z.NEVER;
  }
  return date.toISOString();
});

const baseFlags = z.object({ json: z.boolean().default(false), hub: z.string().optional(), token: z.string().optional() });
const delegateFlags = baseFlags.extend({
  to: z.string().min(1).max(LIMITS.userName),
  from: z.string().min(1).max(LIMITS.userName).optional(),
  since: startFlag.optional(),
  until: instantFlag,
  rule: z.array(z.string().min(1)).optional(),
  reason: z.string().trim().min(1).max(LIMITS.reason),
});

export const describeDelegation = (d: Delegation): string =>
  `${d.id}  ${d.from} → ${d.to}  ${d.startsAt} … ${d.endsAt}${d.rules ? `  rules ${d.rules.join(', ')}` : ''}  ${d.active ? 'active' : d.endedAt ? `ended by ${d.endedBy ?? '?'}` : 'not in force'}  "${withBreaksSpelledOut(d.reason)}"`;

async function create(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(delegateFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: true });
  const body = { to: flags.to, from: flags.from, startsAt: flags.since, endsAt: flags.until, rules: flags.rule, reason: flags.reason };
  const { data, raw } = await http.call('POST', '/api/v1/delegations', delegationSchema, { body });
  if (flags.json) printJson(ctx.io, raw);
  else out(ctx.io, describeDelegation(data));
  return EXIT.ok;
}

async function list(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: true });
  const { data, raw } = await http.call('GET', '/api/v1/delegations', delegationListSchema);
  if (flags.json) printJson(ctx.io, raw);
  else for (const delegation of data.delegations) out(ctx.io, describeDelegation(delegation));
  if (!flags.json && data.delegations.length === 0) note(ctx.io, 'no delegations');
  return EXIT.ok;
}

async function end(ctx: CliContext, command: Command): Promise<number> {
  const id = argument(command, 0, delegationIdSchema);
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: true });
  const { data, raw } = await http.call('DELETE', `/api/v1/delegations/${encodeURIComponent(id)}`, delegationSchema);
  if (flags.json) printJson(ctx.io, raw);
  else out(ctx.io, describeDelegation(data));
  return EXIT.ok;
}

export function registerDelegateCommands(program: Command, ctx: CliContext): void {
  addHubOptions(
    program
      .command('delegate')
      .description('while you are away: hand your approvals to one person for a window (at most 30 days ahead)')
      .requiredOption('--to <user>', 'who decides on your behalf')
      .requiredOption('--until <date>', 'last day (2026-12-31) or an exact end (2026-12-31T18:00:00Z)')
      .requiredOption('--reason <text>', 'why, e.g. "holiday"')
      .option('--since <date>', 'first day or exact start (default: now)')
      .option('--rule <name>', 'only requests under this policy rule (repeatable)', collect)
      .option('--from <user>', 'delegate someone else’s approvals (admins)')
      .option('--json', 'print the delegation as JSON'),
  ).action(action(ctx, (cmd) => create(ctx, cmd)));
  addHubOptions(program.command('delegations').description('list delegations from or to you (admins: all)').option('--json', 'print as JSON')).action(
    action(ctx, (cmd) => list(ctx, cmd)),
  );
  addHubOptions(program.command('undelegate').description('end a delegation now').argument('<id>', 'delegation id (dlg_…)').option('--json', 'print as JSON')).action(
    action(ctx, (cmd) => end(ctx, cmd)),
  );
}
