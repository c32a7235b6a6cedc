import { Argument, Command, Option } from 'commander';
import { z } from 'zod';
import {
  LIMITS,
  REQUEST_STATUSES,
  actingForSchema,
  decidesFor,
  decisionKindSchema,
  describeProgress,
  requestIdSchema,
  requestSchema,
  startTimeSchema,
  userNameSchema,
  type GreenlightRequest,
} from '../../protocol/index.js';
import { CliError, EXIT, usageError } from './cli-error.js';
import type { CliHttp } from './http.js';
import { action, argument, type CliContext } from './context.js';
import { addHubOptions, connect, parseFlags } from './options.js';
import { describeRequest, out, printJson, statusLine, type Io } from './output.js';

const baseFlags = z.object({ json: z.boolean().default(false), hub: z.string().optional(), token: z.string().optional() });
const decideFlags = baseFlags.extend({ comment: z.string().max(LIMITS.comment).optional(), start: z.string().optional(), for: userNameSchema.optional() });
const cancelFlags = baseFlags.extend({ reason: z.string().trim().min(1).max(LIMITS.reason).optional() });
const listFlags = baseFlags.extend({ status: z.enum(REQUEST_STATUSES).optional(), mine: z.boolean().default(false), limit: z.coerce.number().int().min(1).max(LIMITS.pageSize).default(50) });
const listSchema = z.object({ requests: z.array(requestSchema), nextCursor: z.string().nullable().optional() });
/** Who the token is, as "whom may I decide this for" needs them (`actingFor`: from hubs that send it). */
const viewerSchema = z.object({ name: z.string(), groups: z.array(z.string()), roles: z.array(z.string()), actingFor: z.array(actingForSchema).optional() });

const requestPath = (id: string, suffix = ''): string => `/api/v1/requests/${encodeURIComponent(id)}${suffix}`;

function requestId(command: Command): string {
  return argument(command, 0, requestIdSchema);
}

function print(io: Io, request: GreenlightRequest, json: boolean, lines: string[]): number {
  if (json) printJson(io, request);
  else for (const line of lines) out(io, line);
  return EXIT.ok;
}

async function post(ctx: CliContext, command: Command, suffix: string, body?: unknown): Promise<number> {
  const id = requestId(command);
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: true });
  const { data } = await http.call('POST', requestPath(id, suffix), requestSchema, { body: body ?? {} });
  return print(ctx.io, data, flags.json, [statusLine(data)]);
}

async function cancel(ctx: CliContext, command: Command): Promise<number> {
  const id = requestId(command);
  const flags = parseFlags(cancelFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: true });
  const { data } = await http.call('POST', requestPath(id, '/cancel'), requestSchema, { body: flags.reason ? { reason: flags.reason } : {} });
  return print(ctx.io, data, flags.json, [statusLine(data)]);
}

/**
 * Who the caller is and whom they may decide request `id` for, by the app's rule (decidesFor); null
 * when the hub refused to say (the decision itself then gets the hub's answer).
 */
async function capacities(http: CliHttp, id: string): Promise<{ me: string; names: string[] } | null> {
  try {
    const [me, request] = await Promise.all([http.call('GET', '/api/v1/me', viewerSchema), http.call('GET', requestPath(id), requestSchema)]);
    return { me: me.data.name, names: decidesFor(request.data, me.data) };
  } catch (error) {
    if (error instanceof CliError && error.code !== null) return null;
    throw error;
  }
}

/** Someone whose vote could count for several people names one: unnamed, the hub would pick for them. */
function chooseWhomFor(me: string, names: string[]): CliError {
  const others = names.filter((name) => name !== me);
  const who = names.includes(me) ? `as yourself or for ${others.join(', ')}` : `for ${others.join(' or ')}`;
  const flags = names.map((name) => (name === me ? `--for ${name} (yourself)` : `--for ${name}`)).join(', ');
  return usageError(`you may decide this request ${who}, and you vote once: say whom for with ${flags}. Nothing was decided`);
}

async function decide(ctx: CliContext, command: Command): Promise<number> {
  const id = requestId(command);
  const decision = argument(command, 1, decisionKindSchema);
  const flags = parseFlags(decideFlags, command.opts());
  if (flags.start !== undefined && decision !== 'approve') throw usageError('--start: only an approval can move the start');
  if (flags.start !== undefined && !startTimeSchema.safeParse(flags.start).success) {
    throw usageError('--start: expected an RFC 3339 date and time with its offset, such as 2026-12-24T23:00:00+01:00');
  }
  const http = connect(ctx.io, flags, { needsToken: true });
  if (flags.for === undefined) {
    // Unnamed, a vote that could count for several people is counted as the hub picks: they choose.
    const able = await capacities(http, id);
    if (able && able.names.length > 1) throw chooseWhomFor(able.me, able.names);
  }
  const { data } = await http.call('POST', requestPath(id, '/decisions'), requestSchema, { body: { decision, comment: flags.comment, notBefore: flags.start, onBehalfOf: flags.for } });
  const whose = flags.for ? ` for ${flags.for}` : '';
  const pendingNote = data.status === 'pending' ? ` (your ${decision}${whose} is recorded; ${data.quorum ? describeProgress(data.quorum) : `${data.approvals}/${data.rule.minApprovals} approvals`})` : '';
  return print(ctx.io, data, flags.json, [`${statusLine(data)}${pendingNote}`]);
}

async function show(ctx: CliContext, command: Command): Promise<number> {
  const id = requestId(command);
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: true });
  const { data } = await http.call('GET', requestPath(id), requestSchema);
  return print(ctx.io, data, flags.json, describeRequest(data));
}

async function list(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(listFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: true });
  const query = { status: flags.status, mine: flags.mine ? 'true' : undefined, limit: flags.limit };
  const { data, raw } = await http.call('GET', '/api/v1/requests', listSchema, { query });
  if (flags.json) printJson(ctx.io, raw);
  else for (const request of data.requests) out(ctx.io, statusLine(request));
  return EXIT.ok;
}

function withCommon(command: Command): Command {
  return addHubOptions(command.option('--json', 'print the request as JSON'));
}

export function registerDecideCommands(program: Command, ctx: CliContext): void {
  withCommon(
    program
      .command('decide')
      .description('approve or deny a request you are an approver of, or stand in for an approver of')
      .argument('<id>', 'request id')
      .addArgument(new Argument('<decision>', 'approve or deny').choices(['approve', 'deny']))
      .option('--comment <text>', 'why, shown to the requester')
      .option('--start <time>', 'with approve: move when access starts, RFC 3339 with offset (the requester is told)')
      .option('--for <user>', "decide as this approver's delegate (your own name: as yourself); needed when your vote could count for more than one person"),
  ).action(action(ctx, (cmd) => decide(ctx, cmd)));

  withCommon(
    program
      .command('cancel')
      .description('cancel your own pending request, or (admins) anyone\'s with a reason the requester is told')
      .argument('<id>', 'request id')
      .option('--reason <text>', 'why; required when an admin cancels someone else\'s request'),
  ).action(action(ctx, (cmd) => cancel(ctx, cmd)));

  withCommon(program.command('claim').description('tell other approvers you are looking at a request').argument('<id>', 'request id')).action(
    action(ctx, (cmd) => post(ctx, cmd, '/claim')),
  );

  withCommon(program.command('release').description('give up your claim on a request').argument('<id>', 'request id')).action(
    action(ctx, (cmd) => post(ctx, cmd, '/release')),
  );

  withCommon(program.command('show').description('show a request with its context, votes and grant').argument('<id>', 'request id')).action(
    action(ctx, (cmd) => show(ctx, cmd)),
  );

  withCommon(
    program
      .command('list')
      .description('list requests you can see, newest first')
      .addOption(new Option('--status <status>', 'only requests in this state').choices(REQUEST_STATUSES))
      .option('--mine', 'only requests you made')
      .option('--limit <n>', 'how many', '50'),
  ).action(action(ctx, (cmd) => list(ctx, cmd)));
}
