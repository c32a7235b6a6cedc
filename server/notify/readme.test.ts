import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { parsePolicy } from '../domain/policy.js';
import { readNotifiersFile } from './notifiers-file.js';
import { createOutbox } from './outbox.js';

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md');

/** The fenced yaml blocks of the README's Webhooks section, in order. */
function webhookYamlBlocks(): string[] {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('## Webhooks'), text.indexOf('\n## ', text.indexOf('## Webhooks') + 1));
  return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

describe("the README's webhook configuration", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-readme-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads as pasted: the notifier section, its secret from the environment, and the policy naming it', () => {
    const [config, policy] = webhookYamlBlocks();
    const file = path.join(dir, 'notifiers.yaml');
    writeFileSync(file, config ?? '');
    const parsed = readNotifiersFile(file);
    expect(parsed.publicUrl).toBe('https://greenlight.example.com');
    const env = { DEPLOY_BOT_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 9).toString('base64')}` };
    const outbox = createOutbox(parsed.notifiers, new ManualClock(), parsed.publicUrl ?? null, env);
    try {
      const rules = parsePolicy(policy ?? '', 'README policy', { webhooks: outbox.webhookNames }).rules;
      expect(rules[0]?.notify).toEqual(['webhook:deploy-bot']);
    } finally {
      outbox.close();
    }
  });
});

/** The fenced yaml blocks of the README's Slack and Teams section, in order. */
function chatYamlBlocks(): string[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf('## Approving from Slack and Teams');
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => (match[1] ?? '').replace(/^ {3}/gm, ''));
}

describe("the README's Slack and Teams configuration", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-readme-chat-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads as pasted: the app manifest asks for the scopes named, the notifiers section resolves, the policy names its targets', () => {
    const [manifest, config, policy] = chatYamlBlocks();
    expect(manifest).toContain('- chat:write');
    expect(manifest).toContain('- im:write');
    expect(manifest).toContain('request_url: https://greenlight.example.com/integrations/slack/actions');
    const file = path.join(dir, 'notifiers.yaml');
    writeFileSync(file, config ?? '');
    const parsed = readNotifiersFile(file);
    const env = { SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 'abc123', TEAMS_ONCALL_WEBHOOK_URL: 'https://example.webhook.office.com/webhookb2/x' };
    const outbox = createOutbox(parsed.notifiers, new ManualClock(), parsed.publicUrl ?? null, env);
    try {
      expect(outbox.slack).not.toBeNull();
      const rules = parsePolicy(policy ?? '', 'README policy', { webhooks: outbox.webhookNames, teams: outbox.teamsNames, slack: outbox.slack !== null }).rules;
      expect(rules[0]?.notify).toEqual(['slack:#deploys', 'slack:dm', 'teams:oncall']);
      expect(rules[1]?.chatApprove).toBe(false);
    } finally {
      outbox.close();
    }
  });
});
