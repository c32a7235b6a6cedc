import type { Command } from 'commander';
import { z } from 'zod';
import { redeemInputSchema, requestSchema, verifyResultSchema, type VerifyResult } from '../../protocol/index.js';
import { EXIT } from './cli-error.js';
import { registerExtendCommand } from './extend-command.js';
import { redeemOnce } from './redeem-retry.js';
import { action, argument, type CliContext } from './context.js';
import { addHubOptions, connect, parseFlags } from './options.js';
import { note, out, printJson, statusLine, type Io } from './output.js';

const baseFlags = z.object({ json: z.boolean().default(false), hub: z.string().optional(), token: z.string().optional() });
const tokenArg = z.string().min(1, 'give the grant token').max(8192);
const jtiArg = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a grant id');

const REASONS: Record<NonNullable<VerifyResult['reason']>, string> = {
  not_yet_valid: 'it is not valid yet',
  expired: 'it has expired',
  revoked: 'it was revoked',
  redeemed: 'it was already used',
  bad_signature: 'its signature does not match this hub',
  malformed: 'this is not a grant token (a grant is three dot-separated parts, eyJ…)',
  unknown: 'this hub did not issue it',
  payload_mismatch: 'it was approved for another payload than the one given',
};

function describeGrant(result: VerifyResult): string {
  const grant = result.grant;
  if (!grant) return '';
  return `${grant.action} on ${grant.resource} in ${grant.environment} for ${grant.requester} (request ${grant.requestId}, grant ${grant.jti}, ${result.reason === 'not_yet_valid' ? `from ${grant.notBefore} ` : ''}until ${grant.expiresAt})`;
}

function report(io: Io, result: VerifyResult, raw: unknown, json: boolean, verb: string): number {
  if (json) printJson(io, raw);
  if (result.valid) {
    if (!json) out(io, `${verb}: ${describeGrant(result)}`);
    return EXIT.ok;
  }
  const why = result.reason ? REASONS[result.reason] : 'the hub refused it';
  if (!json) out(io, `invalid: ${why}${result.grant ? `; ${describeGrant(result)}` : ''}`);
  return EXIT.failed;
}

/** verify and redeem authenticate with the grant itself: the target system needs no account. */
async function grantCall(ctx: CliContext, command: Command, path: string, verb: string): Promise<number> {
  const grant = argument(command, 0, tokenArg);
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: false });
  const { data, raw } = await http.call('POST', path, verifyResultSchema, { body: { token: grant } });
  return report(ctx.io, data, raw, flags.json, verb);
}

const redeemFlags = baseFlags.extend({ redemptionKey: redeemInputSchema.shape.redemptionKey });

async function redeem(ctx: CliContext, command: Command): Promise<number> {
  const grant = argument(command, 0, tokenArg);
  const flags = parseFlags(redeemFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: false });
  const { data, raw } = await redeemOnce(http, grant, { io: ctx.io, ...(flags.redemptionKey ? { redemptionKey: flags.redemptionKey } : {}) });
  return report(ctx.io, data, raw, flags.json, 'redeemed');
}

async function revoke(ctx: CliContext, command: Command): Promise<number> {
  const jti = argument(command, 0, jtiArg);
  const flags = parseFlags(baseFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: true });
  const { data, raw } = await http.call('POST', `/api/v1/grants/${encodeURIComponent(jti)}/revoke`, requestSchema);
  if (flags.json) printJson(ctx.io, raw);
  else out(ctx.io, `revoked ${jti}`);
  note(ctx.io, statusLine(data));
  return EXIT.ok;
}

export function registerGrantCommands(program: Command, ctx: CliContext): void {
  const grant = program.command('grant').description('check, use or revoke the grant an approval issued');

  addHubOptions(
    grant
      .command('verify')
      .description('check a grant without using it: exit 0 valid, 1 not (no API token needed)')
      .argument('<token>', 'the grant token')
      .option('--json', 'print the hub answer as JSON'),
  ).action(action(ctx, (cmd) => grantCall(ctx, cmd, '/api/v1/grants/verify', 'valid')));

  addHubOptions(
    grant
      .command('redeem')
      .description('use a grant once: exit 0 redeemed, 1 already used or invalid (no API token needed); an answer lost on the way is retried safely')
      .argument('<token>', 'the grant token')
      .option('--redemption-key <key>', 'this use of the grant, to run again after a lost answer (16-128 of A-Z a-z 0-9 . _ ~ -); made for each run otherwise')
      .option('--json', 'print the hub answer as JSON'),
  ).action(action(ctx, (cmd) => redeem(ctx, cmd)));

  addHubOptions(
    grant
      .command('revoke')
      .description('end a grant early (the requester, an approver of the request, or an admin)')
      .argument('<jti>', 'the grant id, shown by `greenlight show`')
      .option('--json', 'print the updated request as JSON'),
  ).action(action(ctx, (cmd) => revoke(ctx, cmd)));

  registerExtendCommand(grant, ctx);
}
