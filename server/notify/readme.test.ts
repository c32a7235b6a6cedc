import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { resolveHubSettings } from '../config/resolve.js';
import { parsePolicy } from '../domain/policy.js';
import { createOutbox } from './outbox.js';

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md');

/** The fenced blocks of one README section (`## Webhooks`), in order. */
function blocksOf(heading: string, language: 'yaml' | 'sh'): string[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(-1);
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  return [...section.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1] ?? '');
}

describe("the README's notification channels, as pasted", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-readme-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The hub's own loader reads the config block as `greenlight hub --config hub.yaml` would; the policy block is checked against it. */
  function load(heading: string, env: Record<string, string>) {
    const [config, policy] = blocksOf(heading, 'yaml');
    const file = path.join(dir, `${heading.toLowerCase()}.yaml`);
    writeFileSync(file, config ?? '');
    const commands = blocksOf(heading, 'sh').join('\n');
    expect(commands).toContain('npx greenlight hub --config ./hub.yaml');
    const resolved = resolveHubSettings({ flags: { config: file }, env: { HOME: dir, ...env } });
    const outbox = createOutbox(resolved.notifiers, new ManualClock(), resolved.settings.publicUrl ?? null, env);
    try {
      const rules = parsePolicy(policy ?? '', 'README policy', { webhooks: outbox.webhookNames, email: outbox.email !== null }).rules;
      return { settings: resolved.settings, outbox, rules };
    } finally {
      outbox.close();
    }
  }

  it('webhooks: the config file loads, its secret from the environment, and the policy naming the endpoint', () => {
    const { settings, outbox, rules } = load('Webhooks', { DEPLOY_BOT_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 9).toString('base64')}` });
    expect(settings.publicUrl).toBe('https://greenlight.example.com');
    expect([...outbox.webhookNames]).toEqual(['deploy-bot']);
    expect(rules[0]?.notify).toEqual(['webhook:deploy-bot']);
  });

  it('email: the config file loads, its SMTP password from the environment, and the policy naming email', () => {
    const { settings, outbox, rules } = load('Email', { SMTP_PASSWORD: 'from-the-environment' });
    expect(settings.publicUrl).toBe('https://greenlight.example.com');
    expect(outbox.email?.origin).toBe('smtp://smtp.example.com:587');
    expect(rules[0]?.notify).toEqual(['email']);
    expect(rules[0]?.escalation[0]?.channels).toEqual(['email']);
  });

  it('email: without SMTP_PASSWORD set the hub refuses to start, naming the key', () => {
    expect(() => load('Email', {})).toThrow('notifiers.email.smtp.password: the environment variable SMTP_PASSWORD is not set');
  });
  it('Slack and Teams: the app manifest asks only for the scopes named, the config file loads, the policy names its chat targets', () => {
    const [manifest, config, policy] = blocksOf('Approving from Slack and Teams', 'yaml').map((block) => block.replace(/^ {3}/gm, ''));
    expect(manifest).toMatch(/- chat:write\b/);
    expect(manifest).toMatch(/- im:write\b/);
    expect(manifest).toMatch(/# - users:read\.email +# only with matchByEmail: true/);
    expect(manifest).toContain('request_url: https://greenlight.example.com/integrations/slack/actions');
    expect(blocksOf('Approving from Slack and Teams', 'sh').join('\n')).toContain('npx greenlight hub --config ./hub.yaml');
    const file = path.join(dir, 'chat.yaml');
    writeFileSync(file, config ?? '');
    const env = { SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 'abc123', TEAMS_ONCALL_WEBHOOK_URL: 'https://example.webhook.office.com/webhookb2/x' };
    const resolved = resolveHubSettings({ flags: { config: file }, env: { HOME: dir, ...env } });
    const outbox = createOutbox(resolved.notifiers, new ManualClock(), resolved.settings.publicUrl ?? null, env);
    try {
      expect(outbox.slack).not.toBeNull();
      expect([...outbox.teamsNames]).toEqual(['oncall']);
      const rules = parsePolicy(policy ?? '', 'README policy', { webhooks: outbox.webhookNames, email: outbox.email !== null, teams: outbox.teamsNames, slack: outbox.slack !== null }).rules;
      expect(rules[0]?.notify).toEqual(['slack:#deploys', 'slack:dm', 'teams:oncall']);
      expect(rules[1]?.chatApprove).toBe(false);
    } finally {
      outbox.close();
    }
  });
});
