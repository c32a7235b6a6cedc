import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { RISKS, newRequestSchema, type NewRequest } from '../../protocol/index.js';
import { usageError } from './cli-error.js';
import { action, type CliContext } from './context.js';
import { addHubOptions, collect, connect, durationFlag, flagErrors, parseFlags, splitPair } from './options.js';
import { reportSubmitted, waitAndReport } from './submission-report.js';
import { submitOnce } from './submit-retry.js';

const flagsSchema = z.object({
  action: z.string(),
  resource: z.string(),
  env: z.string(),
  reason: z.string(),
  risk: z.enum(RISKS).optional(),
  summary: z.string().optional(),
  diffFile: z.string().min(1).optional(),
  logFile: z.string().min(1).optional(),
  link: z.array(z.string()).default([]),
  field: z.array(z.string()).default([]),
  ttl: durationFlag.optional(),
  start: z.string().optional(),
  idempotencyKey: z.string().optional(),
  wait: z.boolean().default(false),
  timeout: durationFlag.default(600),
  json: z.boolean().default(false),
  hub: z.string().optional(),
  token: z.string().optional(),
});
type RequestFlags = z.infer<typeof flagsSchema>;

/** Body fields named the way the user typed them, so a refused value points at its flag. */
const FLAG_FOR_FIELD: Record<string, string> = {
  action: '--action',
  resource: '--resource',
  environment: '--env',
  reason: '--reason',
  risk: '--risk',
  requestedTtlSeconds: '--ttl',
  notBefore: '--start',
  idempotencyKey: '--idempotency-key',
  summary: '--summary',
  diff: '--diff-file',
  logs: '--log-file',
  links: '--link',
  fields: '--field',
};

async function readText(path: string, flag: string): Promise<string> {
  try {
    // `-` reads stdin so a pipeline can pass `git diff | greenlight request --diff-file - ...`.
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks).toString('utf8');
    }
    return await readFile(path, 'utf8');
  } catch (error) {
    throw usageError(`cannot read ${flag} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function buildBody(flags: RequestFlags): Promise<NewRequest> {
  if (flags.diffFile === '-' && flags.logFile === '-') throw usageError('only one of --diff-file and --log-file can read stdin');
  const links = flags.link.map((text) => {
    const [title, url] = splitPair(text, 'link', 'title=url');
    return { title, url };
  });
  const fields = Object.fromEntries(flags.field.map((text) => splitPair(text, 'field')));
  const context: NewRequest['context'] = {};
  if (flags.summary !== undefined) context.summary = flags.summary;
  if (flags.diffFile) context.diff = await readText(flags.diffFile, '--diff-file');
  if (flags.logFile) context.logs = await readText(flags.logFile, '--log-file');
  if (links.length) context.links = links;
  if (flags.field.length) context.fields = fields;
  const body = {
    action: flags.action,
    resource: flags.resource,
    environment: flags.env,
    reason: flags.reason,
    risk: flags.risk,
    context,
    requestedTtlSeconds: flags.ttl,
    notBefore: flags.start,
    idempotencyKey: flags.idempotencyKey,
  };
  // The hub checks again; checking here first names the flag and saves a round trip.
  const checked = newRequestSchema.safeParse(body, { error: flagErrors });
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = issue?.path.find((part) => typeof part === 'string' && part !== 'context');
    const flag = typeof field === 'string' ? (FLAG_FOR_FIELD[field] ?? field) : 'request';
    throw usageError(`${flag}: ${issue?.message ?? 'invalid'}`);
  }
  return body;
}

async function submit(ctx: CliContext, command: Command): Promise<number> {
  const { io } = ctx;
  const flags = parseFlags(flagsSchema, command.opts());
  const body = await buildBody(flags);
  const http = connect(io, flags, { needsToken: true });
  // With --wait, --timeout is the whole budget: time spent getting the request to a restarting hub comes out of the wait.
  const deadline = Date.now() + flags.timeout * 1000;
  // A refusal (NO_POLICY, NO_APPROVERS, …) exits 1 like any error from the hub: exit 3 means a person said no.
  const submitted = await submitOnce(http, body, { io, budgetSeconds: flags.wait ? flags.timeout : 30 });
  return flags.wait ? waitAndReport(io, http, submitted, { ...flags, deadline }) : reportSubmitted(io, submitted, flags.json);
}

export function registerRequestCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('request')
    .description('ask for approval to do something; with --wait, block until it is decided')
    .requiredOption('--action <action>', 'what you want to do, e.g. deploy')
    .requiredOption('--resource <resource>', 'what you want to do it to, e.g. payments-api')
    .requiredOption('--env <environment>', 'where, e.g. production')
    .requiredOption('--reason <text>', 'why, for the approvers')
    .addOption(new Option('--risk <risk>', 'how risky it is (default medium)').choices(RISKS))
    .option('--summary <text>', 'one paragraph approvers see first')
    .option('--diff-file <file>', 'a unified diff of the change (- reads stdin)')
    .option('--log-file <file>', 'a log excerpt (- reads stdin)')
    .option('--link <title=url>', 'a link for approvers, e.g. PR=https://...; repeatable', collect)
    .option('--field <key=value>', 'extra metadata; repeatable', collect)
    .option('--ttl <duration>', 'how long access should last once it starts, e.g. 2h (the policy may cap it)')
    .option('--start <time>', 'when access should start, RFC 3339 with offset, e.g. 2026-12-24T23:00:00+01:00 (default: on approval)')
    .option('--idempotency-key <key>', 'resubmitting with the same key returns the first request (without one, a key is made for this run, so its own retries never ask twice)')
    .option('--wait', 'block until decided: exit 0 approved (grant token on stdout), 3 denied, 4 expired or cancelled, 5 timed out')
    .option('--timeout <duration>', 'with --wait, how long to submit and wait in all', '10m')
    .option('--json', 'print the request as JSON');
  addHubOptions(command).action(action(ctx, (cmd) => submit(ctx, cmd)));
}
