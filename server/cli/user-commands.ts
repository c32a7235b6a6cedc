import type { Command } from 'commander';
import { z } from 'zod';
import { ROLES, createdUserSchema, groupNameSchema, roleSchema, userNameSchema, userSchema } from '../../protocol/index.js';
import { EXIT } from './cli-error.js';
import { action, argument, type CliContext } from './context.js';
import { ADMIN_ONLY, addHubOptions, collect, connect, parseFlags } from './options.js';
import { describeUser, note, out, printJson } from './output.js';

const baseFlags = z.object({ json: z.boolean().default(false), hub: z.string().optional(), token: z.string().optional() });
const addFlags = baseFlags.extend({
  // `prefault`: no --role at all is checked like an empty list, so it gets this message too.
  role: z.array(roleSchema).min(1, `give at least one: ${ROLES.join(', ')}`).prefault([]),
  group: z.array(groupNameSchema).default([]),
});

async function addUser(ctx: CliContext, command: Command): Promise<number> {
  const name = argument(command, 0, userNameSchema);
  const flags = parseFlags(addFlags, command.opts());
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const { data, raw } = await http.call('POST', '/api/v1/users', createdUserSchema, { body: { name, roles: flags.role, groups: flags.group } });
  if (flags.json) printJson(ctx.io, raw);
  else out(ctx.io, data.token);
  note(ctx.io, `created ${describeUser(data)}; the token is shown only once`);
  return EXIT.ok;
}

async function listUsers(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const { data, raw } = await http.call('GET', '/api/v1/users', z.object({ users: z.array(userSchema) }));
  if (flags.json) printJson(ctx.io, raw);
  else for (const user of data.users) out(ctx.io, describeUser(user));
  return EXIT.ok;
}

async function disableUser(ctx: CliContext, command: Command): Promise<number> {
  const name = argument(command, 0, userNameSchema);
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const { data, raw } = await http.call('POST', `/api/v1/users/${encodeURIComponent(name)}/disable`, userSchema);
  if (flags.json) printJson(ctx.io, raw);
  else out(ctx.io, `disabled ${describeUser(data)}`);
  return EXIT.ok;
}

const adminHelp = 'needs an admin token (--token, GREENLIGHT_TOKEN or GREENLIGHT_ADMIN_TOKEN)';

export function registerUserCommands(program: Command, ctx: CliContext): void {
  const user = program.command('user').description('manage users and their API tokens (admins)');

  addHubOptions(
    user
      .command('add')
      .description(`create a user and print their API token; ${adminHelp}`)
      .argument('<name>', 'user name')
      .option('--role <role>', `a role: ${ROLES.join(', ')}; repeatable`, collect)
      .option('--group <group>', 'a group, e.g. sre; repeatable', collect)
      .option('--json', 'print the whole user, token included, as JSON'),
  ).action(action(ctx, (cmd) => addUser(ctx, cmd)));

  addHubOptions(user.command('list').description(`list users; ${adminHelp}`).option('--json', 'print as JSON')).action(
    action(ctx, (cmd) => listUsers(ctx, cmd)),
  );

  addHubOptions(
    user.command('disable').description(`disable a user: their token stops working; ${adminHelp}`).argument('<name>', 'user name').option('--json', 'print as JSON'),
  ).action(action(ctx, (cmd) => disableUser(ctx, cmd)));
}
