import type { Command } from 'commander';
import { z } from 'zod';
import { extendInputSchema, requestSchema } from '../../protocol/index.js';
import { usageError } from './cli-error.js';
import { action, argument, type CliContext } from './context.js';
import { addHubOptions, connect, durationFlag, parseFlags } from './options.js';
import { reportDecided, reportSubmitted, waitAndReport } from './submission-report.js';

const jtiArg = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a grant id');
const flagsSchema = z.object({
  ttl: durationFlag,
  reason: z.string(),
  wait: z.boolean().default(false),
  timeout: durationFlag.default(600),
  json: z.boolean().default(false),
  hub: z.string().optional(),
  token: z.string().optional(),
});

/** `greenlight grant extend <jti>`: a new request for time after the grant's end; with --wait, its grant on stdout. */
async function extend(ctx: CliContext, command: Command): Promise<number> {
  const { io } = ctx;
  const jti = argument(command, 0, jtiArg);
  const flags = parseFlags(flagsSchema, command.opts());
  const body = { ttlSeconds: flags.ttl, reason: flags.reason };
  const checked = extendInputSchema.safeParse(body);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw usageError(`${issue?.path[0] === 'ttlSeconds' ? '--ttl' : '--reason'}: ${issue?.message ?? 'invalid'}`);
  }
  const http = connect(io, flags, { needsToken: true });
  const submitted = (await http.call('POST', `/api/v1/grants/${encodeURIComponent(jti)}/extend`, requestSchema, { body })).data;
  if (submitted.status === 'approved') return reportDecided(io, submitted, flags.json);
  return flags.wait ? waitAndReport(io, http, submitted, flags, `; extends ${jti}`) : reportSubmitted(io, submitted, flags.json, `; extends ${jti}`);
}

export function registerExtendCommand(grant: Command, ctx: CliContext): void {
  addHubOptions(
    grant
      .command('extend')
      .description("ask for more time after a grant ends (in its last minutes): a new request through the same rule; its grant starts at the old one's end")
      .argument('<jti>', 'the grant id, shown by `greenlight show`')
      .requiredOption('--ttl <duration>', 'how much more time, e.g. 1h')
      .requiredOption('--reason <text>', 'why, for the approvers')
      .option('--wait', 'block until decided: exit 0 approved (new grant token on stdout), 3 denied, 4 expired or cancelled, 5 timed out')
      .option('--timeout <duration>', 'with --wait, how long to wait', '10m')
      .option('--json', 'print the request as JSON'),
  ).action(action(ctx, (cmd) => extend(ctx, cmd)));
}
