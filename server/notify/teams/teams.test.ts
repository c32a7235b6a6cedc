import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../../protocol/index.js';
import { requestFixture } from '../../../protocol/request-fixture.js';
import { deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { WebhookReceiver } from '../../test-support/webhook-receiver.js';
import { renderTeamsMessage, TEAMS_MESSAGE_LIMIT_BYTES } from './card.js';

/**
 * What Teams requires of a message carrying an Adaptive Card 1.5, written from the card schema's
 * required properties (the full schema is not available offline): the envelope, the card's type,
 * version and body, and every element and action in the shapes used here.
 */
const textBlock = { type: 'object', required: ['type', 'text'], properties: { type: { const: 'TextBlock' }, text: { type: 'string', minLength: 1 }, wrap: { type: 'boolean' } } };
const richTextBlock = {
  type: 'object',
  required: ['type', 'inlines'],
  properties: { type: { const: 'RichTextBlock' }, inlines: { type: 'array', minItems: 1, items: { type: 'object', required: ['type', 'text'], properties: { type: { const: 'TextRun' }, text: { type: 'string', minLength: 1 } } } } },
};
const factSet = {
  type: 'object',
  required: ['type', 'facts'],
  properties: { type: { const: 'FactSet' }, facts: { type: 'array', minItems: 1, items: { type: 'object', required: ['title', 'value'], additionalProperties: false, properties: { title: { type: 'string' }, value: { type: 'string' } } } } },
};
const openUrl = { type: 'object', required: ['type', 'title', 'url'], additionalProperties: false, properties: { type: { const: 'Action.OpenUrl' }, title: { type: 'string', minLength: 1 }, url: { type: 'string', pattern: '^https?://' } } };
const teamsMessageSchema = {
  type: 'object',
  required: ['type', 'attachments'],
  properties: {
    type: { const: 'message' },
    attachments: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: {
        type: 'object',
        required: ['contentType', 'content'],
        properties: {
          contentType: { const: 'application/vnd.microsoft.card.adaptive' },
          content: {
            type: 'object',
            required: ['$schema', 'type', 'version', 'body'],
            properties: {
              $schema: { const: 'http://adaptivecards.io/schemas/adaptive-card.json' },
              type: { const: 'AdaptiveCard' },
              version: { const: '1.5' },
              body: { type: 'array', minItems: 1, items: { oneOf: [textBlock, richTextBlock, factSet] } },
              actions: { type: 'array', items: openUrl },
            },
          },
        },
      },
    },
  },
};
const validate = new Ajv({ allErrors: true, strict: false }).compile(teamsMessageSchema);

type Element = { type: string; text?: string; inlines?: { text: string }[]; facts?: { title: string; value: string }[] };
type Card = { attachments: { content: { body: Element[]; actions: { url: string; title: string }[] } }[] };
const cardOf = (message: unknown) => (message as Card).attachments[0]?.content;
/** What an element shows, whichever kind of text element it is. */
const shown = (element: Element): string | undefined => element.text ?? element.inlines?.map((run) => run.text).join('');

describe('the Teams card', () => {
  it('spells out the direction controls of a diff, so it reads in the order it runs', () => {
    const request: GreenlightRequest = { ...requestFixture(), context: { diff: '+if role == "user\u202E \u2066# admin\u2069":\n' } };
    const text = renderTeamsMessage('request.created', request, 'https://greenlight.example.com');
    expect(text).not.toMatch(/[\u202E\u2066\u2069]/);
    expect(cardOf(JSON.parse(text))?.body.some((element) => shown(element) === '+if role == "user⟦U+202E⟧ ⟦U+2066⟧# admin⟦U+2069⟧":')).toBe(true);
  });

  it('shows what a requester wrote as written, never as Markdown: no link, no emphasis, a removed line keeps its minus', () => {
    const request: GreenlightRequest = {
      ...requestFixture(),
      resource: '[payments-api](https://phish.example/approve)',
      reason: 'routine\n\n**Approved by security** [Approve here](https://phish.example/approve)',
      context: { summary: '_all clear_', diff: '--- a/x\n+++ b/x\n@@ -1,2 +1 @@\n-    allow_admin = False\n- [x] reviewed\n' },
    };
    const body = cardOf(JSON.parse(renderTeamsMessage('request.created', request, 'https://greenlight.example.com')))?.body ?? [];
    // Only our own words go in TextBlocks, the elements Teams reads as Markdown.
    const markdown = body.filter((element) => element.type === 'TextBlock').map((element) => element.text ?? '');
    expect(markdown.join('\n')).not.toMatch(/phish|Approved by security|all clear|allow_admin|reviewed/);
    const written = body.filter((element) => element.type === 'RichTextBlock').map(shown);
    expect(written).toContain('deploy [payments-api](https://phish.example/approve) → production');
    expect(written).toContain(`Reason: ${request.reason}`);
    expect(written).toContain('_all clear_');
    expect(written).toContain('--- a/x\n+++ b/x\n@@ -1,2 +1 @@\n-    allow_admin = False\n- [x] reviewed');
  });

  it('keeps title, reason and risk whole and shortens only the diff to stay under 28 KB', () => {
    const diff = Array.from({ length: 4000 }, (_, i) => `+ a long changed line number ${i} of the migration script`).join('\n');
    const reason = 'R'.repeat(2000);
    const request: GreenlightRequest = { ...requestFixture(), risk: 'critical', reason, context: { diff, summary: 'S'.repeat(4000) } };
    const text = renderTeamsMessage('request.created', request, 'https://greenlight.example.com');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TEAMS_MESSAGE_LIMIT_BYTES);
    const parsed: unknown = JSON.parse(text);
    expect(validate(parsed), JSON.stringify(validate.errors)).toBe(true);
    const body = cardOf(parsed)?.body ?? [];
    expect(body.some((element) => shown(element) === `${request.action} ${request.resource} → ${request.environment}`)).toBe(true);
    expect(body.some((element) => shown(element) === `Reason: ${reason}`)).toBe(true);
    expect(body.find((element) => element.type === 'FactSet')?.facts).toContainEqual({ title: 'Risk', value: 'CRITICAL' });
    expect(body.some((element) => shown(element)?.match(/^…\d+ more lines$/))).toBe(true);
  });

  it('says who decided, and for whom when a delegate decided for an approver', () => {
    const decided = (changes: Partial<GreenlightRequest>) => {
      const request: GreenlightRequest = { ...requestFixture(), decidedAt: '2026-12-03T14:02:00.000Z', ...changes };
      return cardOf(JSON.parse(renderTeamsMessage('request.decided', request, 'https://greenlight.example.com')))?.body.map(shown) ?? [];
    };
    expect(decided({ status: 'approved', decidedBy: 'dana', decidedFor: 'sue' })).toContain('Approved by dana for sue 14:02 UTC');
    expect(decided({ status: 'denied', decidedBy: 'dana', decidedFor: 'sue' })).toContain('Denied by dana for sue 14:02 UTC');
    expect(decided({ status: 'denied', decidedBy: 'erin' })).toContain('Denied by erin 14:02 UTC');
  });
});

describe('the Teams card at its largest', () => {
  it('stays under 28 KB when the summary, the link buttons and a break-glass alert are large too, keeping title, reason and the console link', () => {
    const longUrl = (i: number) => `https://dashboards.example.com/d/${i}?${'q=x&'.repeat(470)}`;
    const reason = '数'.repeat(2000);
    const request: GreenlightRequest = {
      ...requestFixture(),
      reason,
      context: { summary: '概'.repeat(4000), diff: '+ x\n'.repeat(500), links: Array.from({ length: 5 }, (_, i) => ({ title: `dashboard ${i}`, url: longUrl(i) })) },
    };
    const alert = `Break-glass by alice on prod: INC-1 — ${reason}`;
    const text = renderTeamsMessage('request.break_glass', request, 'https://greenlight.example.com', alert);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TEAMS_MESSAGE_LIMIT_BYTES);
    const parsed: unknown = JSON.parse(text);
    expect(validate(parsed), JSON.stringify(validate.errors)).toBe(true);
    const card = cardOf(parsed);
    expect(card?.body.some((element) => shown(element) === `Reason: ${reason}`)).toBe(true);
    expect(card?.actions[0]).toMatchObject({ title: 'Open in Greenlight', url: expect.stringContaining('https://greenlight.example.com') });
  });

  it('keeps every part of a card that fits', () => {
    const links = [{ title: 'runbook', url: 'https://wiki.example.com/runbook' }];
    const request: GreenlightRequest = { ...requestFixture(), context: { summary: 'rotate the signing keys', diff: '+ a\n- b', links } };
    const card = cardOf(JSON.parse(renderTeamsMessage('request.created', request, 'https://greenlight.example.com')));
    expect(card?.body.map(shown)).toEqual(expect.arrayContaining(['rotate the signing keys', '+ a\n- b']));
    // A link's button says where it leads, so its title cannot pass for another site.
    expect(card?.actions.map((action) => action.title)).toEqual(['Open in Greenlight', 'runbook (wiki.example.com)']);
  });
});

describe('Teams, posting to a local receiver through the outbox', () => {
  const receiver = new WebhookReceiver();
  let hub: TestHub;
  let alice: TestUser, bob: TestUser;

  beforeAll(async () => {
    await receiver.start();
    hub = new TestHub('sqlite', {
      policy: `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: ["teams:oncall"]
`,
      notifiers: { allowPrivateNetworks: true, teams: [{ name: 'oncall', url: `${receiver.url}/teams/hook` }] },
    });
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(async () => {
    await hub.dispose();
    await receiver.close();
  });

  it('posts an Adaptive Card 1.5 for the new request and another for its decision, each linking to the console', async () => {
    // Teams is briefly unavailable: the first attempt is answered 503 and the outbox tries again.
    receiver.reply = () => (receiver.received.length === 1 ? { status: 503 } : { status: 200 });
    const { body: created } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'high' }));
    const first = await receiver.arrivals.next((arrival) => receiver.received.indexOf(arrival) === 1 && arrival.raw.includes('Approval requested'));
    expect(receiver.received[0]?.raw).toBe(first.raw);
    expect(Buffer.byteLength(first.raw)).toBeLessThanOrEqual(TEAMS_MESSAGE_LIMIT_BYTES);
    const message: unknown = JSON.parse(first.raw);
    expect(validate(message), JSON.stringify(validate.errors)).toBe(true);
    expect(cardOf(message)?.actions[0]).toEqual({ type: 'Action.OpenUrl', title: 'Open in Greenlight', url: `${hub.url}/?request=${created.id}` });
    expect(first.headers['content-type']).toBe('application/json');

    await hub.api('POST', `/api/v1/requests/${created.id}/decisions`, bob.token, { decision: 'approve' });
    const decided = await receiver.arrivals.next((arrival) => arrival.raw.includes('Approved by bob'));
    expect(validate(JSON.parse(decided.raw))).toBe(true);
  });
});
