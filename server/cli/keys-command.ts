import type { Command } from 'commander';
import { z } from 'zod';
import { EXIT } from './cli-error.js';
import { action, type CliContext } from './context.js';
import { ADMIN_ONLY, addHubOptions, connect, parseFlags } from './options.js';
import { out, printJson } from './output.js';

const rotateFlags = z.object({ hub: z.string().optional(), token: z.string().optional(), json: z.boolean().default(false) });
const rotationSchema = z.object({ kid: z.string(), retired: z.array(z.string()) });

async function rotate(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(rotateFlags, command.opts());
  const http = connect(ctx.io, flags, ADMIN_ONLY);
  const { data } = await http.call('POST', '/api/v1/admin/signing-keys/rotate', rotationSchema);
  if (flags.json) printJson(ctx.io, data);
  else {
    out(ctx.io, `new grant signing key ${data.kid}`);
    for (const kid of data.retired) out(ctx.io, `retired ${kid}: still published at /.well-known/jwks.json until every grant it signed has expired`);
  }
  return EXIT.ok;
}

export function registerKeysCommand(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description('the grant signing keys (admin token)');
  addHubOptions(
    keys
      .command('rotate')
      .description('sign grants with a new key from now on; the old key stays in the JWKS until every grant it signed has expired')
      .option('--json', 'print the outcome as JSON'),
  ).action(action(ctx, (cmd) => rotate(ctx, cmd)));
}
