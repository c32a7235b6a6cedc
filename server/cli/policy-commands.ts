import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { identifierSchema, policyExplanationSchema, riskSchema, userNameSchema, type PolicyExplanation } from '../../protocol/index.js';
import { ANY_CHANNELS, parsePolicy, PolicyError } from '../domain/policy.js';
import { CliError, EXIT } from './cli-error.js';
import { action, argument, type CliContext } from './context.js';
import { addHubOptions, connect, parseFlags } from './options.js';
import { note, out, printJson } from './output.js';
import { policyWarnings } from '../domain/policy-warnings.js';

const checkFlags = z.object({ json: z.boolean().default(false) });
const explainFlags = z.object({
  json: z.boolean().default(false),
  hub: z.string().optional(),
  token: z.string().optional(),
  action: identifierSchema,
  resource: z.string().min(1),
  env: identifierSchema,
  risk: riskSchema.optional(),
  as: userNameSchema.optional(),
});

/** Checks a policy file on its own, without a hub: exit 0 when valid, 1 with the errors naming rule and field. */
function check(ctx: CliContext, command: Command): number {
  const file = argument(command, 0, z.string().min(1));
  const flags = parseFlags(checkFlags, command.opts());
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`${file}: cannot read: ${(error as Error).message}`, { exitCode: EXIT.usage });
  }
  try {
    const policy = parsePolicy(text, file, ANY_CHANNELS);
    const names = policy.rules.map((rule) => rule.name);
    const warnings = policyWarnings(policy);
    if (flags.json) printJson(ctx.io, { valid: true, rules: names, ...(warnings.length ? { warnings } : {}) });
    else out(ctx.io, `${file}: valid, ${names.length} rule${names.length === 1 ? '' : 's'} (${names.join(', ')})`);
    if (!flags.json) for (const warning of warnings) note(ctx.io, `warning: ${warning}`);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    throw new CliError(error.message, { exitCode: EXIT.failed });
  }
}

const clock = (iso: string): string => new Date(iso).toTimeString().slice(0, 5);

/** The readable form of an explanation: rule, who and how many, the timeline with clock times, TTL. */
export function describeExplanation(explanation: PolicyExplanation): string[] {
  const skipped = explanation.skipped.map((entry) => `  rule ${entry.rule} does not apply: ${entry.why}`);
  if (!explanation.matched) return [explanation.summary, ...skipped];
  const lines = [`rule ${explanation.rule ?? ''}: ${explanation.summary}`];
  for (const group of explanation.groups) {
    const how = group.count === null ? 'any of' : `${group.count} of`;
    lines.push(`  ${group.group}: ${how} ${group.members.length ? group.members.join(', ') : '(nobody active who could approve)'}`);
  }
  for (const step of explanation.escalation) lines.push(`  at ${clock(step.at)}: escalates to ${step.notify.join(', ')}`);
  if (explanation.expiresAt) lines.push(`  at ${clock(explanation.expiresAt)}: expires if undecided`);
  if (explanation.grantTtlSeconds !== null) lines.push(`  grant valid for ${Math.round(explanation.grantTtlSeconds / 60)} min`);
  if (explanation.allowSelfApproval) lines.push('  the requester may approve their own request');
  for (const window of explanation.windows) lines.push(`  usable ${window.days.join(', ')} ${window.from}–${window.to} (${window.timezone}) only`);
  const glass = explanation.breakGlass;
  if (glass) {
    const who = glass.eligible ? 'you may break glass' : `break-glass is for ${glass.groups.join(', ')}`;
    lines.push(`  ${who}: at most ${Math.round(glass.maxTtlSeconds / 60)} min, reviewed by ${glass.reviewers.join(', ')}`);
  }
  return [...lines, ...skipped];
}

async function explain(ctx: CliContext, command: Command): Promise<number> {
  const flags = parseFlags(explainFlags, command.opts());
  const http = connect(ctx.io, flags, { needsToken: true });
  const query = { action: flags.action, resource: flags.resource, environment: flags.env, risk: flags.risk, as: flags.as };
  const { data, raw } = await http.call('GET', '/api/v1/policy/explain', policyExplanationSchema, { query });
  if (flags.json) printJson(ctx.io, raw);
  else for (const line of describeExplanation(data)) out(ctx.io, line);
  return EXIT.ok;
}

export function registerPolicyCommands(program: Command, ctx: CliContext): void {
  const policy = program.command('policy').description('check a policy file, or ask what the policy would do with a request');
  policy
    .command('check')
    .description('check a policy file without a hub: exit 0 when valid, 1 with errors naming the rule and field')
    .argument('<file>', 'the policy YAML')
    .option('--json', 'print the result as JSON')
    .action(action(ctx, async (cmd) => check(ctx, cmd)));
  addHubOptions(
    policy
      .command('explain')
      .description('which rule matches a request, who can approve and how many, the escalation timeline, TTL; or why nothing matches')
      .requiredOption('--action <action>', 'the action, e.g. deploy')
      .requiredOption('--resource <resource>', 'the resource, e.g. payments-api')
      .requiredOption('--env <environment>', 'the environment, e.g. production')
      .option('--risk <risk>', 'low, medium, high or critical (default medium)')
      .option('--as <user>', 'answer as this requester would be answered (admins)')
      .option('--json', 'print the explanation as JSON'),
  ).action(action(ctx, (cmd) => explain(ctx, cmd)));
}
