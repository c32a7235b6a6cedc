import { describe, expect, it } from 'vitest';
import { newRequestSchema } from '../../protocol/index.js';
import { DEFAULT_POLICY, freezeRule, matchRule, parsePolicy, PolicyError, policyOffers } from './policy.js';

const request = (action: string, resource: string, environment: string, risk: 'low' | 'medium' | 'high' | 'critical' = 'medium') => ({ action, resource, environment, risk });

describe('policy parsing', () => {
  it('names a rule it refuses with its name escaped, never carrying a direction control into the error', () => {
    const text = 'rules:\n  - name: "prod\\u202Eved"\n    match: { action: deploy }\n    approvers: [sre]\n    minApprovals: -1\n';
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(/^policy\.yaml: rule "prod\\u202eved": name: .*; rule "prod\\u202eved": minApprovals: /);
    expect(() => parsePolicy(text, 'policy.yaml')).not.toThrow(/\u202E/);
  });

  it('reads the documented format, durations included', () => {
    const policy = parsePolicy(`
rules:
  - name: prod-deploys
    match: { action: deploy, environment: production }
    approvers: [sre]
    minApprovals: 2
    escalation:
      - { after: 5m, notify: [sre-leads] }
      - { after: 1h, notify: [managers, carol] }
    expireAfter: 1h
    grantTtl: 15m
  - name: staging
    match: { action: deploy, environment: staging }
    autoApprove: true
`);
    const rule = policy.rules[0]!;
    expect(rule.minApprovals).toBe(2);
    expect(rule.escalation.map((s) => s.after)).toEqual([300, 3600]);
    expect(rule.expireAfter).toBe(3600);
    expect(rule.grantTtl).toBe(900);
    expect(rule.claimHolds).toBe(600);
    expect(rule.allowSelfApproval).toBe(false);
    expect(policy.rules[1]!.autoApprove).toBe(true);
  });

  it.each([
    ['rules: [\n  - name: x\n   bad: indent', /not valid YAML/],
    ['rules: []', /at least one rule/],
    ['rules:\n  - name: prod\n    approvers: [sre]\n    minApprovals: two', /rule "prod": minApprovals/],
    ['rules:\n  - name: prod\n    approvers: [sre]\n    grantTtl: 15 minutes', /rule "prod": grantTtl: expected a duration/],
    ['rules:\n  - name: prod\n    match: { action: deploy }', /rule "prod": approvers: list at least one approver group/],
    ['rules:\n  - name: prod\n    approvers: [sre]\n    escalation: [{ after: 10m, notify: [a] }, { after: 5m, notify: [b] }]', /rule "prod": escalation\.1\.after/],
    ['rules:\n  - name: prod\n    approvers: [sre]\n    typo: true', /rule "prod".*typo/],
    ['rules:\n  - approvers: [sre]', /rule #1: name/],
    ['rules:\n  - { name: a, approvers: [x] }\n  - { name: a, approvers: [y] }', /duplicate rule name "a"/],
    ['rules:\n  - { name: a, match: { resource: "api\\ud800" }, approvers: [x] }', /rules\.0\.match\.resource: contains a NUL character or a broken UTF-16 surrogate/],
    ['rules:\n  - { name: a, match: { resource: "payments-\\u202Eipa" }, approvers: [x] }', /rules\.0\.match\.resource: contains U\+202E, which changes the direction/],
  ])('refuses %j with an error naming the rule and field', (text, message) => {
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(PolicyError);
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(message);
  });
});

describe('policy matching', () => {
  const policy = parsePolicy(`
rules:
  - name: payments
    match: { action: [deploy, rollback], resource: "payments-*", environment: production }
    approvers: [payments-sre]
  - name: low-risk
    match: { risk: low }
    autoApprove: true
  - name: prod
    match: { environment: production }
    approvers: [sre]
`);

  it('takes the first rule that fits, with globs and lists', () => {
    expect(matchRule(policy, request('deploy', 'payments-api', 'production'))?.name).toBe('payments');
    expect(matchRule(policy, request('rollback', 'payments-db', 'production'))?.name).toBe('payments');
    expect(matchRule(policy, request('deploy', 'search-api', 'production'))?.name).toBe('prod');
    expect(matchRule(policy, request('deploy', 'search-api', 'staging', 'low'))?.name).toBe('low-risk');
  });

  it('lets * match a slash too, so a resource path or a nested environment cannot slip past a stricter rule', () => {
    expect(matchRule(policy, request('deploy', 'payments-api/eu', 'production'))?.name).toBe('payments');
    const nested = parsePolicy(`
rules:
  - name: prod
    match: { environment: "prod*" }
    approvers: [sre]
  - name: the-rest
    match: {}
    autoApprove: true
`);
    expect(matchRule(nested, request('deploy', 'search-api', 'prod/eu'))?.name).toBe('prod');
  });

  it('refuses names with "." or ".." between slashes, which globs would not match and could route past a stricter rule', () => {
    const base = { action: 'deploy', resource: 'payments-api', environment: 'production', reason: 'r' };
    for (const [field, value] of [['environment', 'prod/../eu'], ['environment', 'prod/./eu'], ['resource', 'payments-api/../eu'], ['resource', './payments-api'], ['resource', 'payments-api/..']]) {
      const parsed = newRequestSchema.safeParse({ ...base, [field as string]: value });
      expect(parsed.success, `${field} ${value}`).toBe(false);
      expect(parsed.error?.issues[0]?.message).toBe('must not contain "." or ".." between slashes');
    }
    for (const resource of ['payments-api/eu.v2', 'db/orders', '.well-known', 'a..b']) expect(newRequestSchema.safeParse({ ...base, resource }).success, resource).toBe(true);
  });

  it('matches whatever the case, so "Production" or "Payments-API" cannot route past a stricter rule', () => {
    expect(matchRule(policy, request('Deploy', 'Payments-API', 'PRODUCTION'))?.name).toBe('payments');
    expect(matchRule(policy, request('deploy', 'search-api', 'Production'))?.name).toBe('prod');
  });

  it('refuses a name ending in "/" or holding "//", which a rule for the plain name would not match', () => {
    const base = { action: 'deploy', resource: 'payments-api', environment: 'production', reason: 'r' };
    const refused: [string, string, string][] = [
      ['environment', 'production/', 'must not end with "/"'],
      ['action', 'deploy/', 'must not end with "/"'],
      ['resource', 'payments-api/', 'must not end with "/"'],
      ['environment', 'prod//eu', 'must not contain an empty segment ("//")'],
    ];
    for (const [field, value, message] of refused) {
      const parsed = newRequestSchema.safeParse({ ...base, [field]: value });
      expect(parsed.success, `${field} ${value}`).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.message)).toContain(message);
    }
  });

  it('matches nothing rather than allowing what no rule covers', () => {
    expect(matchRule(policy, request('deploy', 'search-api', 'staging', 'high'))).toBeNull();
  });

  it('the default policy asks one approval from group approvers', () => {
    const rule = matchRule(DEFAULT_POLICY, request('anything', 'at-all', 'anywhere'));
    expect(rule).toMatchObject({ approvers: ['approvers'], minApprovals: 1, autoApprove: false });
  });

  it('offers the form only literal actions and environments', () => {
    expect(policyOffers(policy)[0]).toMatchObject({ rule: 'payments', actions: ['deploy', 'rollback'], environments: ['production'], resources: ['payments-*'] });
  });
});

describe('policy channels', () => {
  const CHANNELS = { webhooks: new Set(['deploy-bot']), email: true };
  const withNotify = (notify: string, channels = '[email]') => `
rules:
  - name: prod-deploys
    match: { action: deploy }
    approvers: [sre]
    notify: ${notify}
    escalation:
      - { after: 10m, notify: [sre-leads], channels: ${channels} }
`;

  it('names configured webhooks and email, and freezes them onto requests', () => {
    const policy = parsePolicy(withNotify('[webhook:deploy-bot, email]'), 'policy.yaml', CHANNELS);
    const frozen = freezeRule(policy.rules[0]!);
    expect(frozen.notify).toEqual(['webhook:deploy-bot', 'email']);
    expect(frozen.escalation[0]?.channels).toEqual(['email']);
  });

  it('refuses a webhook the hub configuration does not define, naming the rule', () => {
    expect(() => parsePolicy(withNotify('[webhook:nope]'), 'policy.yaml', CHANNELS)).toThrow('policy.yaml: rule "prod-deploys": notify: unknown webhook "nope"; configured webhooks: deploy-bot');
    expect(() => parsePolicy(withNotify('[email]', '[webhook:other]'), 'policy.yaml', CHANNELS)).toThrow(/rule "prod-deploys": escalation\.0\.channels: unknown webhook "other"/);
    expect(() => parsePolicy(withNotify('[webhook:deploy-bot]'), 'policy.yaml')).toThrow(/no webhooks are configured/);
  });

  it('refuses email while the hub configuration sets up no SMTP server, naming the rule', () => {
    const noEmail = { webhooks: new Set(['deploy-bot']), email: false };
    expect(() => parsePolicy(withNotify('[email]', '[webhook:deploy-bot]'), 'policy.yaml', noEmail)).toThrow('policy.yaml: rule "prod-deploys": notify: "email" needs notifiers.email');
    expect(() => parsePolicy(withNotify('[webhook:deploy-bot]', '[email]'), 'policy.yaml', noEmail)).toThrow(/rule "prod-deploys": escalation\.0\.channels: "email" needs notifiers\.email/);
  });

  it('freezes emailApprove onto requests only where a rule sets it', () => {
    const rules = parsePolicy('rules:\n  - { name: a, approvers: [sre], emailApprove: true }\n  - { name: b, approvers: [sre] }\n').rules;
    expect(freezeRule(rules[0]!).emailApprove).toBe(true);
    expect(freezeRule(rules[1]!)).not.toHaveProperty('emailApprove');
  });

  it('refuses targets outside the grammar', () => {
    expect(() => parsePolicy(withNotify('[slack]'), 'policy.yaml', CHANNELS)).toThrow(/rule "prod-deploys": notify\.0: expected "email", "webhook:<name>", "slack:#channel", "slack:dm" or "teams:<name>"/);
  });

  it('leaves rules without channels as they were', () => {
    const frozen = freezeRule(parsePolicy('rules:\n  - { name: a, approvers: [sre] }\n').rules[0]!);
    expect(frozen).not.toHaveProperty('notify');
  });
});

describe('policy reminders and repeat', () => {
  it('freezes remind and repeat onto requests', () => {
    const rule = parsePolicy('rules:\n  - { name: a, approvers: [sre], remind: 15m, repeat: 2, escalation: [{ after: 5m, notify: [leads] }] }\n').rules[0]!;
    expect(freezeRule(rule)).toMatchObject({ remindSeconds: 900, repeat: 2 });
  });

  it('refuses a repeat without escalation steps and reminders more often than a minute', () => {
    expect(() => parsePolicy('rules:\n  - { name: a, approvers: [sre], repeat: 2 }\n')).toThrow(/rule "a": repeat: repeat runs the escalation chain again: add escalation steps/);
    expect(() => parsePolicy('rules:\n  - { name: a, approvers: [sre], remind: 30s }\n')).toThrow(/rule "a": remind: remind at most every minute/);
    expect(() => parsePolicy('rules:\n  - { name: a, approvers: [sre], repeat: 11, escalation: [{ after: 5m, notify: [leads] }] }\n')).toThrow(/rule "a": repeat:/);
  });
});

describe('policy durations', () => {
  const ruleWith = (line: string) => `rules:\n  - name: prod\n    approvers: [sre]\n    ${line}\n`;

  it.each([
    ['escalation: [{ after: 3651d, notify: [leads] }]', 'escalation.0.after'],
    ['expireAfter: 3651d', 'expireAfter'],
    ['grantTtl: 9999999999d', 'grantTtl'],
    ['claimHolds: 3651d', 'claimHolds'],
    ['remind: 3651d', 'remind'],
    ['maxScheduleAhead: 3651d', 'maxScheduleAhead'],
    ['extendBefore: 3651d', 'extendBefore'],
    ['extensions: { maxTotal: 3651d }', 'extensions.maxTotal'],
    ['breakGlass: { groups: [oncall], reviewers: [security], maxTtl: 3651d }', 'breakGlass.maxTtl'],
    ['breakGlass: { groups: [oncall], reviewers: [security], cooldown: 9999999999d }', 'breakGlass.cooldown'],
  ])('refuses %s: longer than ten years, naming the field', (line, field) => {
    expect(() => parsePolicy(ruleWith(line), 'policy.yaml')).toThrow(`policy.yaml: rule "prod": ${field}: at most 3650d (ten years)`);
  });

  it('takes 0s where it means none: no break-glass cooldown, no extensions', () => {
    const [rule] = parsePolicy(ruleWith('breakGlass: { groups: [oncall], reviewers: [security], cooldown: 0s }\n    extensions: { maxTotal: 0m }')).rules;
    expect([rule!.breakGlass?.cooldown, rule!.extensions?.maxTotal]).toEqual([0, 0]);
  });

  it.each([
    ['escalation: [{ after: 0s, notify: [leads] }]', 'escalation.0.after', 'name those groups in approvers'],
    ['expireAfter: 0m', 'expireAfter', 'leave expireAfter out'],
    ['grantTtl: 0s', 'grantTtl', 'a grant would end as it starts'],
    ['claimHolds: 0s', 'claimHolds', 'a claim would hold escalation for no time'],
    ['remind: 0s', 'remind', 'leave remind out'],
    ['maxScheduleAhead: 0d', 'maxScheduleAhead', 'every notBefore (and every extension) would be refused'],
    ['extendBefore: 0s', 'extendBefore', 'to allow no extensions write extensions: { maxTotal: 0s }'],
    ['breakGlass: { groups: [oncall], reviewers: [security], maxTtl: 0s }', 'breakGlass.maxTtl', 'break-glass access would end as it starts'],
  ])('refuses %s: zero means nothing there, naming the field and saying why', (line, field, why) => {
    const refusal = () => parsePolicy(ruleWith(line), 'policy.yaml');
    expect(refusal).toThrow(`policy.yaml: rule "prod": ${field}: must be longer than 0s`);
    expect(refusal).toThrow(why);
  });

  it('takes ten years in every duration', () => {
    const [rule] = parsePolicy(`
rules:
  - name: prod
    approvers: [sre]
    escalation: [{ after: 3650d, notify: [leads] }]
    expireAfter: 3650d
    grantTtl: 3650d
    claimHolds: 3650d
    remind: 3650d
    maxScheduleAhead: 3650d
    extendBefore: 3650d
    extensions: { maxTotal: 3650d }
    breakGlass: { groups: [oncall], reviewers: [security], maxTtl: 3650d, cooldown: 3650d }
`).rules;
    expect([rule!.grantTtl, rule!.breakGlass?.cooldown, rule!.extensions?.maxTotal]).toEqual([315_360_000, 315_360_000, 315_360_000]);
  });
});
