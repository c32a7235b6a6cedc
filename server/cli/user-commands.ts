import type { Command } from 'commander';
import { z } from 'zod';
import { ROLES, createdTokenSchema, createdUserSchema, emailSchema, groupNameSchema, roleSchema, slackUserIdSchema, userListSchema, userNameSchema, userSchema } from '../../protocol/index.js';
import { EXIT, usageError } from './cli-error.js';
import { action, argument, type CliContext } from './context.js';
import { ADMIN_ONLY, addHubOptions, collect, connect, parseFlags } from './options.js';
import { describeUser, note, out, printJson } from './output.js';

const baseFlags = z.object({ json: z.boolean().default(false), hub: z.string().optional(), token: z.string().optional() });
const addFlags = baseFlags.extend({
  // `prefault`: no --role at all is checked like an empty list, so it gets this message too.
  role: z.array(roleSchema).min(1, `give at least one: ${ROLES.join(', ')}`).prefault([]),
  group: z.array(groupNameSchema).default([]),
  email: emailSchema.optional(),
  service: z.boolean().default(false),
  slackUser: slackUserIdSchema.optional(),
});
/** commander gives `false` for --no-email / --no-group: remove the email, leave every group. */
const setFlags = baseFlags.extend({
  role: z.array(roleSchema).optional(),
  group: z.union([z.array(groupNameSchema), z.literal(false)]).optional(),
  email: z.union([emailSchema, z.literal(false)]).optional(),
  slackUser: z.union([slackUserIdSchema, z.literal(false)]).optional(),
});

const userPath = (name: string, tail = '') => `/api/v1/users/${encodeURIComponent(name)}${tail}`;

async function addUser(ctx: CliContext, command: Command): Promise<number> {
  const name = argument(command, 0, userNameSchema);
  const opts = command.opts<{ service?: boolean; role?: string[] }>();
  const flags = parseFlags(addFlags, opts.service && !opts.role ? { ...opts, role: ['requester'] } : opts);
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const body = {
    name,
    roles: flags.role,
    groups: flags.group,
    ...(flags.email ? { email: flags.email } : {}),
    ...(flags.slackUser ? { slackUserId: flags.slackUser } : {}),
    ...(flags.service ? { service: true } : {}),
  };
  const { data, raw } = await http.call('POST', '/api/v1/users', createdUserSchema, { body });
  if (flags.json) printJson(ctx.io, raw);
  else if (data.token) out(ctx.io, data.token);
  if (data.token) note(ctx.io, `created ${describeUser(data)}; the token is shown only once`);
  else note(ctx.io, `created ${describeUser(data)}; make its tokens with: greenlight token create --user ${data.name} --name … --scope … --expires …`);
  return EXIT.ok;
}

async function listUsers(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const { data, raw } = await http.call('GET', '/api/v1/users', userListSchema);
  if (flags.json) printJson(ctx.io, raw);
  else for (const user of data.users) out(ctx.io, describeUser(user));
  return EXIT.ok;
}

async function setUser(ctx: CliContext, command: Command): Promise<number> {
  const name = argument(command, 0, userNameSchema);
  const flags = parseFlags(setFlags, command.opts());
  const body = {
    ...(flags.role ? { roles: flags.role } : {}),
    ...(flags.group !== undefined ? { groups: flags.group || [] } : {}),
    ...(flags.email !== undefined ? { email: flags.email || null } : {}),
    ...(flags.slackUser !== undefined ? { slackUserId: flags.slackUser || null } : {}),
  };
  if (Object.keys(body).length === 0) throw usageError('nothing to change: give --email, --no-email, --slack-user, --no-slack-user, --role, --group or --no-group');
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const { data, raw } = await http.call('PATCH', userPath(name), userSchema, { body });
  if (flags.json) printJson(ctx.io, raw);
  else out(ctx.io, `updated ${describeUser(data)}`);
  for (const warning of data.warnings ?? []) note(ctx.io, `warning: ${warning}`);
  return EXIT.ok;
}

function switchUser(verb: 'disable' | 'enable') {
  return async (ctx: CliContext, command: Command): Promise<number> => {
    const name = argument(command, 0, userNameSchema);
    const flags = parseFlags(baseFlags, command.opts());
    const http = connect(ctx.io, flags, ADMIN_ONLY);
    const { data, raw } = await http.call('POST', userPath(name, `/${verb}`), userSchema);
    if (flags.json) printJson(ctx.io, raw);
    else out(ctx.io, `${verb}d ${describeUser(data)}`);
    return EXIT.ok;
  };
}

async function reissueSignInToken(ctx: CliContext, command: Command): Promise<number> {
  const name = argument(command, 0, userNameSchema);
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const { data, raw } = await http.call('POST', userPath(name, '/sign-in-token'), createdTokenSchema);
  if (flags.json) printJson(ctx.io, raw);
  else out(ctx.io, data.token);
  note(ctx.io, `issued ${data.user} a new sign-in token; their earlier one no longer works; the token is shown only once`);
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
      .option('--email <address>', 'their email address')
      .option('--service', 'a machine account (a pipeline): no sign-in token, never an approver; make its tokens with token create --user')
      .option('--slack-user <id>', 'their Slack member id (U…): their clicks on Slack messages count as theirs')
      .option('--json', 'print the whole user, token included, as JSON'),
  ).action(action(ctx, (cmd) => addUser(ctx, cmd)));

  addHubOptions(user.command('list').description(`list users; ${adminHelp}`).option('--json', 'print as JSON')).action(
    action(ctx, (cmd) => listUsers(ctx, cmd)),
  );

  addHubOptions(
    user
      .command('set')
      .description(`change a user's email, roles or groups; each flag given replaces what the user had; ${adminHelp}`)
      .argument('<name>', 'user name')
      .option('--email <address>', 'their email address')
      .option('--no-email', 'remove their email address')
      .option('--slack-user <id>', 'their Slack member id (U…): their clicks on Slack messages count as theirs')
      .option('--no-slack-user', 'unlink their Slack member id')
      .option('--role <role>', `a role: ${ROLES.join(', ')}; repeatable; replaces their roles`, collect)
      .option('--group <group>', 'a group, e.g. sre; repeatable; replaces their groups', collect)
      .option('--no-group', 'take them out of every group')
      .option('--json', 'print the user as JSON')
      .addHelpText('after', '\nExample: greenlight user set bob --email bob@example.com --group sre --group leads --role approver'),
  ).action(action(ctx, (cmd) => setUser(ctx, cmd)));

  addHubOptions(
    user.command('disable').description(`disable a user: their token stops working; ${adminHelp}`).argument('<name>', 'user name').option('--json', 'print as JSON'),
  ).action(action(ctx, (cmd) => switchUser('disable')(ctx, cmd)));

  addHubOptions(
    user
      .command('sign-in-token')
      .description(`issue a person a new sign-in token (lost or leaked): their earlier one stops working; ${adminHelp}`)
      .argument('<name>', 'user name')
      .option('--json', 'print the token and its details as JSON'),
  ).action(action(ctx, (cmd) => reissueSignInToken(ctx, cmd)));

  addHubOptions(
    user.command('enable').description(`let a disabled user back in: their token works again; ${adminHelp}`).argument('<name>', 'user name').option('--json', 'print as JSON'),
  ).action(action(ctx, (cmd) => switchUser('enable')(ctx, cmd)));
}
