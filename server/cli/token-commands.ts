import type { Command } from 'commander';
import { z } from 'zod';
import { createdTokenSchema, scopeSchema, SCOPES, tokenIdSchema, tokenListSchema, tokenNameSchema, tokenSchema, userNameSchema, type TokenInfo } from '../../protocol/index.js';
import { EXIT } from './cli-error.js';
import { action, argument, type CliContext } from './context.js';
import { addHubOptions, collect, connect, parseFlags } from './options.js';
import { note, out, printJson } from './output.js';

const baseFlags = z.object({ json: z.boolean().default(false), hub: z.string().optional(), token: z.string().optional() });
const createFlags = baseFlags.extend({
  name: tokenNameSchema,
  scope: z.array(scopeSchema).min(1, `give at least one --scope: ${SCOPES.join(', ')}`).prefault([]),
  expires: z.string().min(1, 'say how long it lives, e.g. --expires 90d (at most 365d)'),
  user: userNameSchema.optional(),
});
const listFlags = baseFlags.extend({ user: userNameSchema.optional() });
const USER_TOKEN = { needsToken: true } as const;

function describeToken(token: TokenInfo): string {
  const used = token.lastUsedAt ? `  last used: ${token.lastUsedAt}` : '  never used';
  return `${token.id}  ${token.name}  ${token.kind}  user: ${token.user}  scopes: ${token.scopes.join(',') || '-'}  expires: ${token.expiresAt ?? 'never'}${used}`;
}

async function createToken(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(createFlags, command.opts());
  const http = connect(ctx.io, flags, USER_TOKEN);
  const body = { name: flags.name, scopes: flags.scope, expiresIn: flags.expires, ...(flags.user ? { user: flags.user } : {}) };
  const { data, raw } = await http.call('POST', '/api/v1/tokens', createdTokenSchema, { body });
  if (flags.json) printJson(ctx.io, raw);
  else out(ctx.io, data.token);
  note(ctx.io, `created ${describeToken(data)}; the token is shown only once`);
  return EXIT.ok;
}

async function listTokens(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(listFlags, command.opts());
  const http = connect(ctx.io, flags, USER_TOKEN);
  const { data, raw } = await http.call('GET', '/api/v1/tokens', tokenListSchema, { query: { user: flags.user } });
  if (flags.json) printJson(ctx.io, raw);
  else for (const token of data.tokens) out(ctx.io, describeToken(token));
  return EXIT.ok;
}

async function revokeToken(ctx: CliContext, command: Command): Promise<number> {
  const id = argument(command, 0, tokenIdSchema);
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, USER_TOKEN);
  const { data, raw } = await http.call('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`, tokenSchema);
  if (flags.json) printJson(ctx.io, raw);
  else out(ctx.io, `revoked ${describeToken(data)}`);
  return EXIT.ok;
}

export function registerTokenCommands(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('named, scoped, expiring API tokens (for pipelines and other machines)');

  addHubOptions(
    token
      .command('create')
      .description('make a token for yourself, or (admins) for a service user with --user; prints it once')
      .requiredOption('--name <name>', 'what the token is for, e.g. ci')
      .option('--scope <scope>', `a scope: ${SCOPES.join(', ')}; repeatable`, collect)
      .requiredOption('--expires <duration>', 'how long it lives, e.g. 90d (at most 365d)')
      .option('--user <name>', 'a service user to make it for (admins)')
      .option('--json', 'print the whole token as JSON')
      .addHelpText('after', '\nExample: greenlight token create --name ci --scope requests:create --scope requests:read --expires 90d'),
  ).action(action(ctx, (cmd) => createToken(ctx, cmd)));

  addHubOptions(
    token.command('list').description('list your tokens (never the tokens themselves); admins may pass --user').option('--user <name>', 'whose tokens (admins)').option('--json', 'print as JSON'),
  ).action(action(ctx, (cmd) => listTokens(ctx, cmd)));

  addHubOptions(token.command('revoke').description('end a token at once').argument('<id>', 'the token id (tok_…), from token list').option('--json', 'print as JSON')).action(
    action(ctx, (cmd) => revokeToken(ctx, cmd)),
  );
}
