import { createPublicKey } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { AUDIT_TYPES, auditQuerySchema } from '../../protocol/index.js';
import { CliError, EXIT, usageError } from './cli-error.js';
import { action, type CliContext } from './context.js';
import { ADMIN_ONLY, addHubOptions, connect, parseFlags, collect } from './options.js';
import { isTerminal, note, out, printJson, terminalSafe, type Io } from './output.js';
import { checkpointKeyId, checkpointSignatureValid, keyInUse, readCheckpointLog, signatureProblem, type Checkpoint, type TrustedCheckpointKey } from '../domain/checkpoints.js';
import { defaultCheckpointKeyFile, readCheckpointPublicKeys } from '../keys/key-files.js';
import { seqHashSchema } from '../transport/audit-verify-query.js';
import { unsharedLogProblem } from '../domain/checkpoint-chains.js';
import { auditVerifyAnswerReadSchema, type AuditVerifyAnswerRead } from '../transport/audit-verify-outcome.js';

const hubFlags = { hub: z.string().optional(), token: z.string().optional() };
// The filters are the hub's own audit query fields, so the CLI can't drift from the API.
const exportFlags = auditQuerySchema.pick({ from: true, to: true, actor: true, action: true, resource: true, type: true, outcome: true, q: true }).extend({
  ...hubFlags,
  format: z.enum(['csv', 'jsonl']).default('jsonl'),
  output: z.string().min(1).optional(),
});
const verifyFlags = z.object({
  ...hubFlags,
  json: z.boolean().default(false),
  dataDir: z.string().min(1).optional(),
  databaseUrl: z.string().min(1).optional(),
  checkpoints: z.array(z.string().min(1)).default([]),
  expect: z.array(seqHashSchema).default([]),
  checkpointKey: z.array(z.string().min(1)).default([]),
  sharedCheckpoints: z.boolean().default(false),
});
// `retired` is absent from hubs older than checkpoint key rotation.
const checkpointKeyAnswerSchema = z.object({ publicKeyPem: z.string(), retired: z.array(z.object({ publicKeyPem: z.string(), untilSeq: z.number().int() })).default([]) });

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
    // A hub gone quiet mid-download says so itself; it is not the file's fault.
    if (error instanceof CliError) throw error;
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
  } else if (isTerminal(ctx.io.stdout)) {
    // Read on a terminal, not saved: what the terminal would act on is spelled out (a file gets the bytes).
    ctx.io.stdout.write(terminalSafe(await new Response(response.body).text()));
  } else {
    await writeAll(response.body, ctx.io.stdout);
  }
  return EXIT.ok;
}

/**
 * The checkpoint public keys: those in the files given, else the hub's own (GREENLIGHT_CHECKPOINT_KEY
 * or the default key file, when there is one, and GREENLIGHT_RETIRED_CHECKPOINT_KEYS).
 */
function localCheckpointKeys(flags: z.infer<typeof verifyFlags>, env: NodeJS.ProcessEnv): TrustedCheckpointKey[] {
  const current = env.GREENLIGHT_CHECKPOINT_KEY || [defaultCheckpointKeyFile(env)].find((file) => existsSync(file));
  try {
    if (!flags.checkpointKey.length) {
      if (!current) return [];
      const retired = env.GREENLIGHT_RETIRED_CHECKPOINT_KEYS ? readCheckpointPublicKeys(env.GREENLIGHT_RETIRED_CHECKPOINT_KEYS, { retired: true }) : [];
      return [...readCheckpointPublicKeys(current), ...retired];
    }
    const keys = flags.checkpointKey.flatMap((file) => readCheckpointPublicKeys(file));
    // Only the key in use vouches for any event: a retired key whose until-seq line went missing must not.
    const unbounded = new Set(keys.filter((key) => key.untilSeq === null).map((key) => checkpointKeyId(key.key)));
    if (unbounded.size > 1) throw usageError(`${unbounded.size} of the checkpoint keys given have no "until-seq: N" line: only the key in use may; mark each retired key with the last event it vouches for`);
    return keys;
  } catch (error) {
    throw usageError((error as Error).message);
  }
}

/** The keys a hub publishes, its current one and those it replaced; none needs a token. */
async function publishedCheckpointKeys(http: Pick<ReturnType<typeof connect>, 'call'>): Promise<TrustedCheckpointKey[]> {
  const { data } = await http.call('GET', '/.well-known/greenlight-checkpoint-key', checkpointKeyAnswerSchema);
  return [keyInUse(createPublicKey(data.publicKeyPem)), ...data.retired.map((retired) => ({ key: createPublicKey(retired.publicKeyPem), untilSeq: retired.untilSeq }))];
}

/** Without a key file, a hub named by --hub or GREENLIGHT_HUB publishes the keys. */
async function hubCheckpointKeys(ctx: CliContext, flags: z.infer<typeof verifyFlags>): Promise<TrustedCheckpointKey[]> {
  if (!flags.hub && !ctx.io.env.GREENLIGHT_HUB) return [];
  return publishedCheckpointKeys(connect(ctx.io, { hub: flags.hub }, { needsToken: false }));
}

/** Checkpoint files named by --checkpoints: each line parsed; one that is not a checkpoint is reported, not trusted. */
function checkpointFiles(files: string[], shared: boolean, notes: string[]): { source: string; checkpoints: Checkpoint[]; shared: boolean }[] {
  return files.map((file) => {
    let lines;
    try {
      lines = readCheckpointLog(file);
    } catch (error) {
      throw usageError(`cannot read the checkpoint log ${file}: ${(error as Error).message}`);
    }
    for (const line of lines) if (!line.checkpoint) notes.push(`${file} line ${line.line} is not a checkpoint (${line.problem ?? 'unreadable'})`);
    return { source: file, checkpoints: lines.flatMap((line) => (line.checkpoint ? [line.checkpoint] : [])), shared };
  });
}

/** Reads the database directly, for when the hub is down or its answers are not trusted. */
async function verifyOffline(ctx: CliContext, flags: z.infer<typeof verifyFlags>): Promise<AuditVerifyAnswerRead> {
  if (!flags.databaseUrl && flags.dataDir && !existsSync(path.join(flags.dataDir, 'greenlight.db'))) {
    throw usageError(`no Greenlight database in ${flags.dataDir} (expected greenlight.db there)`);
  }
  const notes: string[] = [];
  const files = [...flags.checkpoints];
  const ownLog = flags.dataDir ? path.join(flags.dataDir, 'checkpoints.jsonl') : null;
  if (ownLog && existsSync(ownLog) && !files.includes(ownLog)) files.push(ownLog);
  const outside = checkpointFiles(files, flags.sharedCheckpoints, notes);
  const local = localCheckpointKeys(flags, ctx.io.env);
  const publicKeys = local.length ? local : await hubCheckpointKeys(ctx, flags);
  // Loaded on demand: the database drivers are heavy and only this path needs them.
  const [{ openStore }, { verifyAudit }] = await Promise.all([import('../store/database.js'), import('../domain/audit-verify.js')]);
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl });
  } catch (error) {
    throw usageError(`cannot open the database: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const outcome = await verifyAudit(store.db, { publicKeys, outside, trusted: flags.expect.map((entry) => ({ ...entry, source: '--expect' })) });
    return outcome.ok ? { ...outcome, notes: [...outcome.notes, ...notes] } : outcome;
  } finally {
    await store.close();
  }
}

/** Through a hub: checkpoint files are checked here against the public key, then the hub checks the chain passes through them. */
async function verifyOnline(ctx: CliContext, flags: z.infer<typeof verifyFlags>): Promise<AuditVerifyAnswerRead> {
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const notes: string[] = [];
  const outside = checkpointFiles(flags.checkpoints, flags.sharedCheckpoints, notes);
  let held: Checkpoint[] = [];
  if (outside.length) {
    const publicKeys = flags.checkpointKey.length ? localCheckpointKeys(flags, ctx.io.env) : await publishedCheckpointKeys(http);
    for (const { source, checkpoints } of outside) {
      for (const checkpoint of checkpoints) {
        if (!checkpointSignatureValid(publicKeys, checkpoint)) {
          return { ok: false, events: 0, brokenAt: checkpoint.seq, kind: 'bad_signature', problem: signatureProblem(publicKeys, checkpoint, source) };
        }
      }
      held = held.concat(checkpoints);
    }
  }
  // The latest ones prove the most: a chain that passes through them passes through every earlier one.
  const latest = [...new Map(held.map((checkpoint) => [checkpoint.seq, checkpoint])).values()].sort((a, b) => b.seq - a.seq).slice(0, 20);
  const list = (entries: { seq: number; hash: string; chainId?: string }[]) =>
    entries.length ? entries.map((entry) => [entry.seq, entry.hash, ...(entry.chainId ? [entry.chainId] : [])].join(':')).join(',') : undefined;
  const { data } = await http.call('GET', '/api/v1/audit/verify', auditVerifyAnswerReadSchema, { query: { expect: list(flags.expect), checkpoints: list(latest) } });
  if (!data.ok) return data;
  // Only the latest checkpoints went to the hub: whether a log holds another chain before this one's is seen here, as offline.
  if (data.chainId === undefined) {
    if (outside.length && !flags.sharedCheckpoints) notes.push("the hub did not say which chain it holds (an older hub): the checkpoint logs were not checked for another database's chain");
  } else {
    for (const { source, checkpoints, shared } of outside) {
      const problem = shared ? null : unsharedLogProblem(data.chainId, source, checkpoints);
      if (problem) return { ok: false, events: data.events, brokenAt: 0, kind: 'foreign_checkpoints', problem };
    }
  }
  return { ...data, notes: [...data.notes, ...notes] };
}

function reportVerify(io: Io, outcome: AuditVerifyAnswerRead, json: boolean): number {
  if (json) printJson(io, outcome);
  if (outcome.ok) {
    if (!json) {
      out(io, `audit log intact: ${outcome.events} events, every hash matches`);
      if (outcome.checkpoint) {
        const after = outcome.events - outcome.checkpoint.seq;
        out(io, `signed checkpoint at event ${outcome.checkpoint.seq}${outcome.checkpoint.at ? ` (${outcome.checkpoint.at})` : ''} from ${outcome.checkpoint.source} matches; ${after} later event${after === 1 ? ' is' : 's are'} not covered by a checkpoint yet`);
      } else {
        out(io, 'no signed checkpoint to check against: events could have been removed from the end or the chain recomputed without this showing');
      }
      for (const line of outcome.notes) note(io, `note: ${line}`);
    }
    return EXIT.ok;
  }
  if (json) return EXIT.failed;
  if ('findings' in outcome) {
    out(io, `audit log intact (${outcome.events} events), but the database DISAGREES with it: ${outcome.problem}`);
    for (const finding of outcome.findings) out(io, `  ${finding.reason}: ${finding.problem}`);
    const unlisted = outcome.findingsTotal - outcome.findings.length;
    if (unlisted > 0) out(io, `  … and ${unlisted} more (--json lists the same first ${outcome.findings.length})`);
    return EXIT.failed;
  }
  const verified = outcome.kind === 'chain' ? ` (${outcome.events} events before it verified)` : '';
  out(io, `audit log BROKEN at event ${outcome.brokenAt}: ${outcome.problem}${verified}`);
  return EXIT.failed;
}

async function verifyAuditCommand(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(verifyFlags, command.opts());
  const outcome = flags.dataDir || flags.databaseUrl ? await verifyOffline(ctx, flags) : await verifyOnline(ctx, flags);
  return reportVerify(ctx.io, outcome, flags.json);
}

export function registerAuditCommands(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('export and verify the tamper-evident audit log; needs an admin token (--token, GREENLIGHT_TOKEN or GREENLIGHT_ADMIN_TOKEN)');

  addHubOptions(
    audit
      .command('export')
      .description('write every matching audit event as CSV or JSON lines, newest first')
      .addOption(new Option('--format <format>', 'output format').choices(['csv', 'jsonl']).default('jsonl'))
      .option('--from <date>', 'events at or after this time (ISO 8601 with its zone; a date alone is that day in UTC)')
      .option('--to <date>', 'events at or before this time (ISO 8601 with its zone; a date alone takes in that whole day)')
      .option('--actor <name>', 'only events by this user')
      .option('--action <action>', 'only events about this action')
      .option('--resource <resource>', 'only events about this resource')
      .addOption(new Option('--type <type>', 'only events of this type').choices(AUDIT_TYPES))
      .option('--outcome <outcome>', 'only events with this outcome (approved, denied, refused, …), as the console filters')
      .option('--q <words>', 'only events whose text holds these words, as the console searches')
      .option('--output <file>', 'write to this file instead of stdout'),
  ).action(action(ctx, (cmd) => exportAudit(ctx, cmd)));

  addHubOptions(
    audit
      .command('verify')
      .description('recompute the hash chain and check it against the signed checkpoints, then the requests, votes, grants, delegations and users against the chain: exit 0 intact, 1 naming the first broken event and whether the log was truncated, rewritten, or a checkpoint forged or deleted, or each row the log disagrees with')
      .option('--data-dir <dir>', 'check the SQLite database in this directory directly, without a hub (its checkpoints.jsonl is read too)')
      .option('--database-url <url>', 'check this PostgreSQL database directly, without a hub')
      .option('--checkpoints <file>', 'a checkpoint log kept elsewhere (JSON lines); repeat for several', collect, [])
      .option('--expect <seq:hash>', 'the chain must pass through this event with this hash (from a checkpoint you keep); repeat for several', collect, [])
      .option('--shared-checkpoints', "the checkpoint logs read hold checkpoints of several databases: another database's are noted, not held against this one (without it, a log holding another chain's checkpoints instead of this one's, or before them, means the chain id was changed)")
      .option('--checkpoint-key <file>', 'a checkpoint key (public or private PEM; a file may hold several); repeat for each key the hubs have signed with. Default GREENLIGHT_CHECKPOINT_KEY, the default key file, or through a hub the keys at its /.well-known/greenlight-checkpoint-key', collect, [])
      .option('--json', 'print the outcome as JSON'),
  ).action(action(ctx, (cmd) => verifyAuditCommand(ctx, cmd)));
}
