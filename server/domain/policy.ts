import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { describeMisleadingText, pathText, quotedText, findMisleadingText, findUnstorableText, isSlackTarget, isTeamsTarget, policySchema, type FrozenRule, type ParsedNewRequest, type Policy, type PolicyOffer, type PolicyRule } from '../../protocol/index.js';
import { YAML_DEPTH_LIMIT, yamlNestingBeyond } from '../yaml-depth.js';
import { policyDigest } from './policy-digest.js';

export class PolicyError extends Error {}

/** What the hub configuration defines that a policy may name: its webhooks, whether email and Slack are set up, its Teams webhooks. */
export interface ConfiguredChannels {
  webhooks: ReadonlySet<string>;
  email: boolean;
  teams?: ReadonlySet<string>;
  slack?: boolean;
}

/** Why a chat target cannot be used with this configuration, or null when it can. */
function chatTargetProblem(target: string, channels: ConfiguredChannels): string | null {
  if (isSlackTarget(target)) return channels.slack ? null : `"${target}" needs notifiers.slack in the hub configuration`;
  if (!isTeamsTarget(target)) return null;
  const name = target.slice('teams:'.length);
  const teams = channels.teams ?? new Set<string>();
  if (teams.has(name)) return null;
  return `unknown Teams webhook "${name}"; ${teams.size ? `configured: ${[...teams].join(', ')}` : 'none is configured (notifiers.teams in the hub configuration)'}`;
}

export const NO_CHANNELS: ConfiguredChannels = { webhooks: new Set(), email: false };

/** For checking a policy file without the hub's configuration: every channel name is taken as configured. */
export const ANY_CHANNELS: ConfiguredChannels = { webhooks: new Set(), email: true };

/** Every channel a rule (or one of its escalation steps) names must be configured; the error names the rule. */
function checkChannels(policy: Policy, source: string, channels: ConfiguredChannels): void {
  if (channels === ANY_CHANNELS) return;
  for (const rule of policy.rules) {
    const targets: [string, string[]][] = [['notify', rule.notify], ...rule.escalation.map((step, index): [string, string[]] => [`escalation.${index}.channels`, step.channels ?? []])];
    for (const [field, list] of targets) {
      for (const target of list) {
        const chatProblem = chatTargetProblem(target, channels);
        if (chatProblem) throw new PolicyError(`${source}: rule "${rule.name}": ${field}: ${chatProblem}`);
        if (target === 'email') {
          if (channels.email) continue;
          throw new PolicyError(`${source}: rule "${rule.name}": ${field}: "email" needs notifiers.email (an SMTP server and a sender) in the hub configuration`);
        }
        if (!target.startsWith('webhook:')) continue;
        const name = target.slice('webhook:'.length);
        if (channels.webhooks.has(name)) continue;
        const known = channels.webhooks.size ? `configured webhooks: ${[...channels.webhooks].join(', ')}` : 'no webhooks are configured (notifiers.webhooks in the hub configuration)';
        throw new PolicyError(`${source}: rule "${rule.name}": ${field}: unknown webhook "${name}"; ${known}`);
      }
    }
  }
}

export const DEFAULT_POLICY: Policy = policySchema.parse({
  rules: [{ name: 'default', match: {}, approvers: ['approvers'], minApprovals: 1 }],
});

/** Parses policy YAML; errors name the rule and the field so the author can fix them. */
export function parsePolicy(text: string, source = 'policy', channels: ConfiguredChannels = NO_CHANNELS): Policy {
  const tooDeep = yamlNestingBeyond(text);
  if (tooDeep) throw new PolicyError(`${source}: line ${tooDeep.line}: lists and maps nest more than ${YAML_DEPTH_LIMIT} deep; a policy needs six levels at most`);
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : '';
    throw new PolicyError(`${source}: not valid YAML${where}: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = policySchema.safeParse(raw);
  if (!result.success) throw new PolicyError(`${source}: ${describePolicyIssues(result.error, raw)}`);
  // minApprovals has a default, so the schema cannot tell one written beside `require:` (which it would quietly ignore) from none.
  const writtenRules: unknown[] = Array.isArray((raw as { rules?: unknown }).rules) ? (raw as { rules: unknown[] }).rules : [];
  result.data.rules.forEach((rule, index) => {
    const written = writtenRules[index];
    if (rule.require && typeof written === 'object' && written !== null && 'minApprovals' in written) {
      throw new PolicyError(`${source}: rule "${rule.name}": minApprovals: require replaces minApprovals: each line's count says how many approvals it needs (${approvalsNeeded(rule)} in all now); remove minApprovals or raise a line's count`);
    }
  });
  const unstorable = findUnstorableText(result.data);
  if (unstorable) throw new PolicyError(`${source}: ${pathText(unstorable)}: contains a NUL character or a broken UTF-16 surrogate, which can't be stored`);
  const misleading = findMisleadingText(result.data);
  if (misleading) throw new PolicyError(`${source}: ${pathText(misleading.path)}: ${describeMisleadingText(misleading)}`);
  checkChannels(result.data, source, channels);
  return result.data;
}

function describePolicyIssues(error: z.ZodError, raw: unknown): string {
  const rules = (raw as { rules?: unknown[] } | null)?.rules;
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const [first, index, ...rest] = issue.path;
      if (first === 'rules' && typeof index === 'number') {
        const name = (rules?.[index] as { name?: unknown } | undefined)?.name;
        const label = typeof name === 'string' ? `rule ${quotedText(name)}` : `rule #${index + 1}`;
        return `${label}: ${rest.length ? `${pathText(rest)}: ` : ''}${issue.message}`;
      }
      return `${issue.path.length ? `${pathText(issue.path)}: ` : ''}${issue.message}`;
    })
    .join('; ');
}

const asList = (value: string | string[] | undefined): string[] | undefined => (value === undefined ? undefined : Array.isArray(value) ? value : [value]);

// Compiling a glob costs far more than testing one; a policy has few patterns, so keep them compiled.
const matchers = new Map<string, (value: string) => boolean>();

function matcherFor(pattern: string): (value: string) => boolean {
  let matcher = matchers.get(pattern);
  if (!matcher) {
    if (matchers.size >= 1000) matchers.clear();
    // `bash`: a single * matches across "/" too; resources and environments are names, not paths.
    // `nocase`: "Production" is production; a capital letter must not route past a stricter rule.
    matcher = picomatch(pattern, { dot: true, bash: true, nocase: true });
    matchers.set(pattern, matcher);
  }
  return matcher;
}

function matches(patterns: string[] | undefined, value: string): boolean {
  if (!patterns) return true;
  return patterns.some((pattern) => matcherFor(pattern)(value));
}

/** Why a rule does not apply to a request, naming the field; null when it does. */
export function ruleMismatch(rule: PolicyRule, request: Pick<ParsedNewRequest, 'action' | 'resource' | 'environment' | 'risk'>): string | null {
  const fields = [
    ['action', asList(rule.match.action), request.action],
    ['resource', asList(rule.match.resource), request.resource],
    ['environment', asList(rule.match.environment), request.environment],
  ] as const;
  for (const [field, patterns, value] of fields) {
    if (!matches(patterns, value)) return `${field} "${value}" is not ${patterns?.join(' or ') ?? ''}`;
  }
  const risks = asList(rule.match.risk);
  if (risks && !risks.includes(request.risk)) return `risk "${request.risk}" is not ${risks.join(' or ')}`;
  return null;
}

/** The first rule whose match fits the request, or null: unmatched requests are refused, never allowed. */
export function matchRule(policy: Policy, request: Pick<ParsedNewRequest, 'action' | 'resource' | 'environment' | 'risk'>): PolicyRule | null {
  return (
    policy.rules.find(
      (rule) =>
        matches(asList(rule.match.action), request.action) &&
        matches(asList(rule.match.resource), request.resource) &&
        matches(asList(rule.match.environment), request.environment) &&
        (rule.match.risk === undefined || asList(rule.match.risk)?.includes(request.risk) === true),
    ) ?? null
  );
}

/** The groups that may approve under a rule: its `require` lines' groups, or its `approvers`. */
export const approverGroupsOf = (rule: PolicyRule): string[] => (rule.require ? rule.require.map((line) => line.group) : rule.approvers);

/** Approvals needed in all: the sum of the `require` lines, or `minApprovals`. */
export const approvalsNeeded = (rule: PolicyRule): number => (rule.require ? rule.require.reduce((sum, line) => sum + line.count, 0) : rule.minApprovals);

export function freezeRule(rule: PolicyRule): FrozenRule {
  return {
    name: rule.name,
    approvers: approverGroupsOf(rule),
    minApprovals: approvalsNeeded(rule),
    ...(rule.require ? { require: rule.require } : {}),
    ...(rule.breakGlass
      ? { breakGlass: { groups: rule.breakGlass.groups, maxTtlSeconds: rule.breakGlass.maxTtl, cooldownSeconds: rule.breakGlass.cooldown, reviewers: rule.breakGlass.reviewers } }
      : {}),
    allowSelfApproval: rule.allowSelfApproval,
    escalation: rule.escalation.map((step) => ({ afterSeconds: step.after, notify: step.notify, ...(step.channels?.length ? { channels: step.channels } : {}) })),
    expireAfterSeconds: rule.expireAfter ?? null,
    grantTtlSeconds: rule.grantTtl,
    claimHoldsSeconds: rule.claimHolds,
    autoApprove: rule.autoApprove,
    ...(rule.notify.length ? { notify: rule.notify } : {}),
    ...(rule.remind !== undefined ? { remindSeconds: rule.remind } : {}),
    ...(rule.repeat > 0 ? { repeat: rule.repeat } : {}),
    ...(rule.maxScheduleAhead !== undefined ? { maxScheduleAheadSeconds: rule.maxScheduleAhead } : {}),
    ...(rule.windows ? { windows: rule.windows } : {}),
    ...(rule.extensions ? { extensions: { autoApprove: rule.extensions.autoApprove, maxTotalSeconds: rule.extensions.maxTotal ?? null } } : {}),
    ...(rule.extendBefore !== undefined ? { extendBeforeSeconds: rule.extendBefore } : {}),
    ...(rule.chatApprove ? {} : { chatApprove: false }),
    ...(rule.emailApprove ? { emailApprove: true } : {}),
  };
}

const literal = (values: string[] | undefined): string[] => (values ?? []).filter((value) => !picomatch.scan(value).isGlob);

export function policyOffers(policy: Policy): PolicyOffer[] {
  return policy.rules.map((rule) => ({
    rule: rule.name,
    actions: literal(asList(rule.match.action)),
    environments: literal(asList(rule.match.environment)),
    resources: asList(rule.match.resource) ?? [],
    autoApprove: rule.autoApprove,
    minApprovals: approvalsNeeded(rule),
    grantTtlSeconds: rule.grantTtl,
  }));
}

/**
 * Holds the policy in force. With a file, watches it (its folder, so editors that replace the file
 * are seen) and reloads on change; a bad edit keeps the previous policy and reports why.
 */
export class PolicyHolder {
  private policy: Policy;
  private policyDigest: string;
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private lastText: string | null = null;

  constructor(
    readonly file: string | null,
    private readonly onReload: (outcome: { ok: true; rules: number; digest: string } | { ok: false; error: string }) => void = () => undefined,
    private readonly channels: ConfiguredChannels = NO_CHANNELS,
  ) {
    if (file) {
      this.lastText = readFileSync(file, 'utf8');
      this.policy = parsePolicy(this.lastText, file, channels);
    } else {
      this.policy = DEFAULT_POLICY;
    }
    this.policyDigest = policyDigest(this.policy);
  }

  current(): Policy {
    return this.policy;
  }

  /** The SHA-256 of the policy in force as parsed (`policy-digest.ts`): equal on hubs that decide alike. */
  digest(): string {
    return this.policyDigest;
  }

  /** Re-reads the file now; returns whether the new text was taken. */
  reload(): boolean {
    if (!this.file) return false;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      this.onReload({ ok: false, error: `${this.file}: cannot read: ${(error as Error).message}` });
      return false;
    }
    if (text === this.lastText) return false;
    this.lastText = text;
    try {
      this.policy = parsePolicy(text, this.file, this.channels);
      this.policyDigest = policyDigest(this.policy);
      this.onReload({ ok: true, rules: this.policy.rules.length, digest: this.policyDigest });
      return true;
    } catch (error) {
      this.onReload({ ok: false, error: (error as Error).message });
      return false;
    }
  }

  watch(): void {
    if (!this.file || this.watcher) return;
    const base = path.basename(this.file);
    this.watcher = watch(path.dirname(this.file), (_event, name) => {
      if (name !== null && name !== base) return;
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.reload(), 100);
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.debounce) clearTimeout(this.debounce);
  }
}
