import type { Command } from 'commander';
import { z } from 'zod';
import { notificationIdSchema, notificationPageSchema, notificationSchema, type Notification } from '../../protocol/index.js';
import { EXIT } from './cli-error.js';
import { action, argument, type CliContext } from './context.js';
import { ADMIN_ONLY, addHubOptions, connect, parseFlags } from './options.js';
import { note, out, printJson } from './output.js';
import { withBreaksSpelledOut } from '../../protocol/plain-text.js';

const baseFlags = z.object({ json: z.boolean().default(false), hub: z.string().optional(), token: z.string().optional() });
const listFlags = baseFlags.extend({
  failed: z.boolean().default(false),
  pending: z.boolean().default(false),
  limit: z.string().regex(/^[1-9]\d{0,3}$/, 'expected a whole number from 1 to 1000').transform(Number).pipe(z.number().max(1000, 'at most 1000')).default(100),
});

/** One line per notification: id, what, where, how it fares. */
export function describeNotification(n: Notification): string {
  const where = `${n.channel}:${n.destination}`;
  const fate =
    n.status === 'delivered'
      ? `delivered ${n.deliveredAt ?? ''}`
      : n.status === 'pending'
        ? `pending, attempt ${n.attempts + 1} at ${n.nextAttemptAt ?? 'once a slot is free'}`
        : `failed after ${n.attempts} attempt${n.attempts === 1 ? '' : 's'}`;
  const last = n.status !== 'delivered' && n.lastError ? ` — ${withBreaksSpelledOut(n.lastError)}` : '';
  return `${n.id}  ${n.type}  ${n.requestId ?? '-'}  → ${where}  ${fate}${last}`;
}

async function listNotifications(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(listFlags, command.opts());
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const status = flags.failed ? 'failed' : flags.pending ? 'pending' : undefined;
  const { data, raw } = await http.call('GET', '/api/v1/notifications', notificationPageSchema, { query: { status, limit: flags.limit } });
  if (flags.json) printJson(ctx.io, raw);
  else for (const notification of data.notifications) out(ctx.io, describeNotification(notification));
  if (!flags.json && data.notifications.length === 0) note(ctx.io, status ? `no ${status} notifications` : 'no notifications');
  return EXIT.ok;
}

async function retryNotification(ctx: CliContext, command: Command): Promise<number> {
  const id = argument(command, 0, notificationIdSchema);
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const { data, raw } = await http.call('POST', `/api/v1/notifications/${encodeURIComponent(id)}/retry`, notificationSchema);
  if (flags.json) printJson(ctx.io, raw);
  else out(ctx.io, `queued again: ${describeNotification(data)}`);
  return EXIT.ok;
}

const adminHelp = 'needs an admin token (--token, GREENLIGHT_TOKEN or GREENLIGHT_ADMIN_TOKEN)';

export function registerNotifyCommands(program: Command, ctx: CliContext): void {
  const notify = program.command('notify').description('see how webhook notifications fare and send failed ones again (admins)');

  addHubOptions(
    notify
      .command('list')
      .description(`list notifications, newest first; ${adminHelp}`)
      .option('--failed', 'only those that gave up (dead-lettered, refused, or their endpoint was disabled)')
      .option('--pending', 'only those still waiting to be delivered')
      .option('--limit <n>', 'at most this many (1 to 1000)', '100')
      .option('--json', 'print as JSON'),
  ).action(action(ctx, (cmd) => listNotifications(ctx, cmd)));

  addHubOptions(
    notify
      .command('retry')
      .description(`send a failed notification again with a fresh retry schedule (same webhook-id); re-enables an endpoint a 410 disabled; ${adminHelp}`)
      .argument('<id>', 'notification id (ntf_…), as notify list shows it')
      .option('--json', 'print as JSON'),
  ).action(action(ctx, (cmd) => retryNotification(ctx, cmd)));
}
