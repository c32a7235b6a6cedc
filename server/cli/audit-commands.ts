import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { AUDIT_TYPES, auditQuerySchema } from '../../protocol/index.js';
import { CliError, EXIT, usageError } from './cli-error.js';
import { action, type CliContext } from './context.js';
import { ADMIN_ONLY, addHubOptions, connect, parseFlags } from './options.js';
import { note, out, printJson, type Io } from './output.js';

const hubFlags = { hub: z.string().optional(), token: z.string().optional() };
// The filters are the hub's own audit query fields, so the CLI can't drift from the API.
const exportFlags = auditQuerySchema.pick({ from: true, to: true, actor: true, action: true, resource: true, type: true }).extend({
  ...hubFlags,
  format: z.enum(['csv', 'jsonl']).default('jsonl'),
  output: z.string().min(1).optional(),
});
const verifyFlags = z.object({ ...hubFlags, json: z.boolean().default(false), dataDir: z.string().min(1).optional(), databaseUrl: z.string().min(1).optional() });
const verifyOutcomeSchema = z.union([
  z.object({ ok: z.literal(true), events: z.number() }),
  z.object({ ok: z.literal(false), events: z.number(), brokenAt: z.number(), problem: z.string() }),
]);
type VerifyOutcome = z.infer<typeof verifyOutcomeSchema>;

async function writeAll(body: ReadableStream<Uint8Array>, target: NodeJS.WritableStream): Promise<number> {
  const reader = body.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
    if (!target.write(value)) await once(target, 'drain');
  }
}

/** Writes beside the target and renames at the end, so a failed export never leaves half a file. */
export async function exportToFile(body: ReadableStream<Uint8Array>, file: string): Promise<number> {
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.partial`);
  const stream = createWriteStream(partial, { mode: 0o600 });
  try {
    await once(stream, 'open');
    const bytes = await writeAll(body, stream);
    stream.end();
    await once(stream, 'finish');
    await rename(partial, file);
    return bytes;
  } catch (error) {
    stream.destroy();
    await rm(partial, { force: true });
    throw new CliError(`cannot write ${file}: ${error instanceof Error ? error.message : String(error)}`, { exitCode: EXIT.failed });
  }
}

async function exportAudit(ctx: CliContext, command: Command): Promise<number> {
  const { hub, token, output, ...query } = parseFlags(exportFlags, command.opts());
  const http = connect(ctx.io, { hub, token }, ADMIN_ONLY);
  const response = await http.stream('/api/v1/audit', query);
  if (!response.body) return EXIT.ok;
  if (output) {
    const bytes = await exportToFile(response.body, output);
    note(ctx.io, `wrote ${bytes} bytes of ${query.format} to ${output}`);
  } else {
    await writeAll(response.body, ctx.io.stdout);
  }
  return EXIT.ok;
}

/** Reads the database directly, for when the hub is down or its answers are not trusted. */
async function verifyOffline(flags: z.infer<typeof verifyFlags>): Promise<VerifyOutcome> {
  if (!flags.databaseUrl && flags.dataDir && !existsSync(path.join(flags.dataDir, 'greenlight.db'))) {
    throw usageError(`no Greenlight database in ${flags.dataDir} (expected greenlight.db there)`);
  }
  // Loaded on demand: the database drivers are heavy and only this path needs them.
  const [{ openStore }, { verifyChain }] = await Promise.all([import('../store/database.js'), import('../domain/audit.js')]);
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  } catch (error) {
    throw usageError(`cannot open the database: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return await verifyChain(store.db);
  } finally {
    await store.close();
  }
}

function reportVerify(io: Io, outcome: VerifyOutcome, json: boolean): number {
  if (json) printJson(io, outcome);
  if (outcome.ok) {
    if (!json) out(io, `audit log intact: ${outcome.events} events, every hash matches`);
    return EXIT.ok;
  }
  if (!json) out(io, `audit log BROKEN at event ${outcome.brokenAt}: ${outcome.problem} (${outcome.events} events before it verified)`);
  return EXIT.failed;
}

async function verifyAudit(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(verifyFlags, command.opts());
  if (flags.dataDir || flags.databaseUrl) return reportVerify(ctx.io, await verifyOffline(flags), flags.json);
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const { data } = await http.call('GET', '/api/v1/audit/verify', verifyOutcomeSchema);
  return reportVerify(ctx.io, data, flags.json);
}

export function registerAuditCommands(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('export and verify the tamper-evident audit log; needs an admin token (--token, GREENLIGHT_TOKEN or GREENLIGHT_ADMIN_TOKEN)');

  addHubOptions(
    audit
      .command('export')
      .description('write every matching audit event as CSV or JSON lines, newest first')
      .addOption(new Option('--format <format>', 'output format').choices(['csv', 'jsonl']).default('jsonl'))
      .option('--from <date>', 'events at or after this time (ISO 8601)')
      .option('--to <date>', 'events at or before this time (ISO 8601)')
      .option('--actor <name>', 'only events by this user')
      .option('--action <action>', 'only events about this action')
      .option('--resource <resource>', 'only events about this resource')
      .addOption(new Option('--type <type>', 'only events of this type').choices(AUDIT_TYPES))
      .option('--output <file>', 'write to this file instead of stdout'),
  ).action(action(ctx, (cmd) => exportAudit(ctx, cmd)));

  addHubOptions(
    audit
      .command('verify')
      .description('recompute the hash chain: exit 0 intact, 1 naming the first broken event')
      .option('--data-dir <dir>', 'check the SQLite database in this directory directly, without a hub')
      .option('--database-url <url>', 'check this PostgreSQL database directly, without a hub')
      .option('--json', 'print the outcome as JSON'),
  ).action(action(ctx, (cmd) => verifyAudit(ctx, cmd)));
}
