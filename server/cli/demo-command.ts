import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { createdUserSchema, formatDuration, requestSchema, type GreenlightRequest } from '../../protocol/index.js';
import { CliError, EXIT } from './cli-error.js';
import { action, type CliContext } from './context.js';
import { DEMO_PEOPLE, DEMO_POLICY, DEMO_REQUESTS } from './demo-content.js';
import { defaultDataDir } from '../config/settings.js';
import { builtConsoleDir } from '../project-root.js';
import { untilSignal } from './hub-command.js';
import { CliHttp } from './http.js';
import { parseFlags } from './options.js';
import { note, out, type Io } from './output.js';

const demoFlags = z.object({
  port: z.string().regex(/^\d{1,5}$/, 'expected a port number, 0 to 65535').transform(Number).pipe(z.number().max(65_535, 'expected a port number, 0 to 65535')),
  host: z.string().min(1),
  dataDir: z.string().min(1),
});

/** Tokens of the people the demo created, kept beside its database: the hub stores only their hashes. */
const TOKENS_FILE = 'demo-tokens.json';
const savedTokensSchema = z.record(z.string(), z.string().startsWith('glt_'));

/** Where the demo keeps its hub: beside the real data directory, never in it. */
export function defaultDemoDir(env: NodeJS.ProcessEnv): string {
  return `${path.resolve(env.GREENLIGHT_DATA_DIR || defaultDataDir(env))}-demo`;
}

function readSavedTokens(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const parsed = savedTokensSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')) as unknown);
  if (!parsed.success) throw new CliError(`${file} is not the demo's token file; remove it (or the whole demo folder) and run the demo again`, { exitCode: EXIT.failed });
  return parsed.data;
}

/** Creates the demo's people, or finds them from an earlier run; returns every sign-in token by name. */
async function ensurePeople(http: CliHttp, dataDir: string, adminToken: string): Promise<Record<string, string>> {
  const file = path.join(dataDir, TOKENS_FILE);
  const tokens = readSavedTokens(file);
  for (const person of DEMO_PEOPLE) {
    try {
      const { data } = await http.call('POST', '/api/v1/users', createdUserSchema, { body: { name: person.name, roles: person.roles, groups: person.groups } });
      if (data.token) tokens[person.name] = data.token;
      writeFileSync(file, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
    } catch (error) {
      const known = error instanceof CliError && error.code === 'CONFLICT' && tokens[person.name];
      if (!known) {
        if (error instanceof CliError && error.code === 'CONFLICT') {
          throw new CliError(`the demo in ${dataDir} has a user ${person.name} but no token for them in ${TOKENS_FILE}; remove ${dataDir} to start the demo afresh`, { exitCode: EXIT.failed });
        }
        throw error;
      }
    }
  }
  return { ...tokens, admin: adminToken };
}

/**
 * Submits each demo request as alice, keyed so that a second run finds the one still pending
 * instead of asking twice; one decided since is replaced by a fresh one.
 */
async function ensureRequests(http: CliHttp): Promise<GreenlightRequest[]> {
  const pending: GreenlightRequest[] = [];
  for (const { slug, request } of DEMO_REQUESTS) {
    for (let round = 1; ; round++) {
      const { data } = await http.call('POST', '/api/v1/requests', requestSchema, { body: { ...request, idempotencyKey: `demo-${slug}-${round}` } });
      if (data.status === 'pending') {
        pending.push(data);
        break;
      }
      if (round >= 100) throw new CliError(`the demo request ${slug} was decided 100 times; remove the demo folder to start afresh`, { exitCode: EXIT.failed });
    }
  }
  return pending;
}

function escalationNote(request: GreenlightRequest, now: number): string {
  if (!request.nextEscalationAt) return '';
  const step = request.rule.escalation[request.escalationLevel];
  const seconds = Math.max(0, Math.round((Date.parse(request.nextEscalationAt) - now) / 1000));
  // "leads (lena)": the group, and who in the demo is in it.
  const who = (step?.notify ?? []).map((name) => {
    const members = DEMO_PEOPLE.filter((person) => person.groups.includes(name)).map((person) => person.name);
    return members.length ? `${name} (${members.join(', ')})` : name;
  });
  return `; escalates to ${who.join(', ') || 'the next step'} in ${formatDuration(seconds)}`;
}

function printWelcome(io: Io, url: string, dataDir: string, tokens: Record<string, string>, requests: GreenlightRequest[]): void {
  const people = [...DEMO_PEOPLE, { name: 'admin', about: 'admin: users, history and the audit log' }];
  const width = Math.max(...people.map((person) => person.name.length));
  out(io, `Greenlight demo hub on ${url} (data and hub.log in ${dataDir})`);
  out(io, '');
  out(io, 'Sign in as (open a link; it signs this browser in as that person, so keep them to yourself):');
  for (const person of people) out(io, `  ${person.name.padEnd(width)}  ${url}/#token=${tokens[person.name] ?? ''}  ${person.about}`);
  out(io, '');
  out(io, 'Waiting on bob, asked by alice:');
  const now = Date.now();
  for (const request of requests) {
    out(io, `  ${request.id}  ${request.action} ${request.resource} in ${request.environment}, risk ${request.risk}${escalationNote(request, now)}`);
  }
  out(io, '');
  if (!builtConsoleDir()) note(io, 'The web console is not built in this checkout, so the links show nothing yet: run npm run build:renderer (npm run demo does).');
  note(io, 'Ctrl+C stops the demo; run it again to carry on where you left off.');
}

async function runDemo(ctx: CliContext, command: Command): Promise<number> {
  const { io } = ctx;
  const opts = command.opts();
  const flags = parseFlags(demoFlags, { ...opts, dataDir: opts.dataDir ?? defaultDemoDir(io.env) });
  const dataDir = path.resolve(flags.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const policyFile = path.join(dataDir, 'policy.yaml');
  if (!existsSync(policyFile)) writeFileSync(policyFile, DEMO_POLICY);
  // Loaded on demand so other commands don't pay for the hub's dependencies.
  const [{ startHub }, { createFileLogger }] = await Promise.all([import('../hub.js'), import('../logger.js')]);
  // The hub logs to a file: the terminal is for the links.
  const logger = createFileLogger(path.join(dataDir, 'hub.log'));
  const signal = untilSignal(io);
  let hub: Awaited<ReturnType<typeof startHub>>;
  try {
    // No adminToken: the demo's admin gets a token of its own, saved in the demo folder.
    hub = await startHub({ port: flags.port, host: flags.host, dataDir, policyFile, logger, print: () => undefined });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const why = code === 'EADDRINUSE' ? `port ${flags.port} on ${flags.host} is already in use (is npm start running?); pick another with --port` : error instanceof Error ? error.message : String(error);
    throw new CliError(`cannot start the demo hub: ${why}`, { exitCode: EXIT.usage });
  }
  try {
    const adminToken = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    const tokens = await ensurePeople(new CliHttp(hub.url, adminToken), dataDir, adminToken);
    const requests = await ensureRequests(new CliHttp(hub.url, tokens.alice));
    printWelcome(io, hub.url, dataDir, tokens, requests);
  } catch (error) {
    await hub.close();
    throw error instanceof CliError ? error : new CliError(`cannot set up the demo: ${error instanceof Error ? error.message : String(error)}`, { exitCode: EXIT.failed });
  }
  note(io, `Greenlight hub listening on ${hub.url}`);
  const received = await signal;
  note(io, `${received}: stopping the demo`);
  await hub.close();
  return EXIT.ok;
}

export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run a demo hub with people and requests in it, and print a sign-in link for each person')
    .option('--port <port>', 'port to listen on; 0 picks a free one', '7300')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', "the demo's own data directory (default: the hub's data directory with -demo appended)")
    .addHelpText('after', '\nRun it again with the same --data-dir to carry on: the people, their links and pending requests are kept.')
    .action(action(ctx, (cmd) => runDemo(ctx, cmd)));
}
