import { describe, expect, it } from 'vitest';
import { LIMITS, type GreenlightRequest } from '../../../protocol/index.js';
import { requestFixture } from '../../../protocol/request-fixture.js';
import { messageProblems } from '../../test-support/slack-block-kit.js';
import { alertBlocks, alertText, renderSlackMessage, splitEscaped } from './message.js';

const options = { publicUrl: 'https://greenlight.example.com', chatApprove: true };
const textOf = (request: GreenlightRequest) => JSON.stringify(renderSlackMessage(request, options).blocks);

describe('the Slack message', () => {
  it('stays within Block Kit limits with every field at its largest, and shows the reason whole', () => {
    const reason = '&<>'.repeat(Math.floor(LIMITS.reason / 3));
    const links = Array.from({ length: LIMITS.links }, (_, i) => ({ title: `link ${i} ${'t'.repeat(LIMITS.linkTitle - 10)}`, url: `https://example.com/${i}/${'p'.repeat(LIMITS.url - 30)}` }));
    const request = requestFixture({
      action: 'a'.repeat(LIMITS.identifier),
      resource: 'r'.repeat(LIMITS.resource),
      environment: 'e'.repeat(LIMITS.identifier),
      reason,
      risk: 'critical',
      context: { summary: '<'.repeat(LIMITS.summary), diff: Array.from({ length: 500 }, () => `+${'x'.repeat(400)}`).join('\n'), links },
    });
    const message = renderSlackMessage(request, options);
    expect(messageProblems({ text: message.text, blocks: message.blocks })).toEqual([]);
    const reasonText = message.blocks
      .filter((block) => block.type === 'section' && typeof block.text === 'object')
      .map((block) => (block.text as { text: string }).text)
      .join('')
      .split('*Summary*')[0];
    expect(reasonText).toContain('&amp;&lt;&gt;'.repeat(Math.floor(LIMITS.reason / 3)));
    expect(JSON.stringify(message.blocks)).toMatch(/…\d+ more lines/);
  });

  it('spells out the direction controls of a diff, so it reads in the order it runs', () => {
    const text = textOf(requestFixture({ context: { diff: '+if role == "user\u202E \u2066# admin\u2069":\n' } }));
    expect(text).not.toMatch(/[\u202E\u2066\u2069]/);
    expect(text).toContain('+if role == \\"user⟦U+202E⟧ ⟦U+2066⟧# admin⟦U+2069⟧\\":');
  });

  it('shows where each link leads beside its title, so a title cannot pass for another site', () => {
    // The title names one site, the URL another; the host of a lookalike name shows in punycode.
    const links = [
      { title: 'tickets.example.com/INC-4412', url: 'https://tickets.example.net.evil.test/login' },
      { title: 'runbook', url: 'https://w\u0456ki.example.com/runbook' },
    ];
    const text = textOf(requestFixture({ context: { links } }));
    expect(text).toContain('<https://tickets.example.net.evil.test/login|tickets.example.com/INC-4412> (tickets.example.net.evil.test)');
    expect(text).toContain('|runbook> (xn--wki-');
  });

  it('escapes what a requester wrote so it cannot ping or forge a link', () => {
    const text = textOf(requestFixture({ reason: '<!channel> <!here|here> <@U123> <https://x.example|y> & done', risk: 'low' }));
    expect(text).not.toMatch(/<!channel>|<!here|<@U123>|<https:\/\/x\.example/);
    expect(text).toContain('&lt;!channel&gt; &lt;!here|here&gt; &lt;@U123&gt; &lt;https://x.example|y&gt; &amp; done');
  });

  it('escapes the fallback text that Slack shows in notifications, so a resource cannot ping or forge a link there either', () => {
    // A resource may hold anything but spaces and invisible characters: these pass the hub's validation.
    const request = requestFixture({ resource: '<!channel>&<https://x.example|payments-api>', risk: 'high' });
    const { text } = renderSlackMessage(request, options);
    expect(text).toBe('deploy &lt;!channel&gt;&amp;&lt;https://x.example|payments-api&gt; → production (high risk, from alice)');
    expect(alertText('Break-glass by alice: <!here> INC-1 & <@U0BOSS>')).toBe(':rotating_light: URGENT: Break-glass by alice: &lt;!here&gt; INC-1 &amp; &lt;@U0BOSS&gt;');
  });

  it('shows the reason and the summary as plain text, so a requester cannot set their words in bold or as a quote', () => {
    const reason = '*Pre-approved by security* _see ticket_\n> ~risk: none~ `ok`';
    const blocks = renderSlackMessage(requestFixture({ reason, context: { summary: '*URGENT* sign-off given' } }), options).blocks;
    const texts = blocks.flatMap((block) => (block.type === 'section' && typeof block.text === 'object' ? [block.text as { type: string; text: string }] : []));
    const reasonAt = texts.findIndex((text) => text.text === '*Reason*');
    expect(texts[reasonAt]?.type).toBe('mrkdwn');
    expect(texts[reasonAt + 1]).toEqual({ type: 'plain_text', text: '*Pre-approved by security* _see ticket_\n&gt; ~risk: none~ `ok`', emoji: false });
    const summaryAt = texts.findIndex((text) => text.text === '*Summary*');
    expect(texts[summaryAt + 1]).toEqual({ type: 'plain_text', text: '*URGENT* sign-off given', emoji: false });
  });

  it("shows a deny's comment as plain text below the outcome, so a denier cannot pass their words off as the hub's", () => {
    const comment = '*Approved by security* after all <https://x.example|see> ~no~ `ok`\n> quoted';
    const denied = requestFixture({
      status: 'denied',
      decidedBy: 'carol',
      decidedAt: '2026-12-05T14:02:00.000Z',
      decisions: [{ approver: 'carol', decision: 'deny', comment, at: '2026-12-05T14:02:00.000Z' }],
    });
    const message = renderSlackMessage(denied, options);
    expect(messageProblems({ text: message.text, blocks: message.blocks })).toEqual([]);
    const texts = message.blocks.flatMap((block) => (block.type === 'section' && typeof block.text === 'object' ? [block.text as { type: string; text: string }] : []));
    const outcomeAt = texts.findIndex((text) => text.text.startsWith(':no_entry: *Denied* by carol'));
    expect(texts[outcomeAt]?.type).toBe('mrkdwn');
    expect(texts[outcomeAt]?.text).not.toContain('security');
    expect(texts[outcomeAt + 1]).toEqual({ type: 'mrkdwn', text: '*Why it was denied*' });
    expect(texts[outcomeAt + 2]).toEqual({ type: 'plain_text', text: '*Approved by security* after all &lt;https://x.example|see&gt; ~no~ `ok`\n&gt; quoted', emoji: false });
    expect(texts.filter((text) => text.type === 'mrkdwn' && text.text.includes('security'))).toEqual([]);
  });

  it('shows a break-glass alert, which carries the incident and reason as written, as plain text under the URGENT line', () => {
    const alert = 'Break-glass by dave on prod-db: *INC-1* — <!channel> _all clear_, approved by security';
    const blocks = alertBlocks(alert, 'https://greenlight.example.com/?request=req_1');
    expect(messageProblems({ text: alert, blocks })).toEqual([]);
    const texts = blocks.flatMap((block) => (block.type === 'section' && typeof block.text === 'object' ? [block.text as { type: string; text: string }] : []));
    expect(texts).toEqual([
      { type: 'mrkdwn', text: '*:rotating_light: URGENT*' },
      { type: 'plain_text', text: 'Break-glass by dave on prod-db: *INC-1* — &lt;!channel&gt; _all clear_, approved by security', emoji: false },
      { type: 'mrkdwn', text: '<https://greenlight.example.com/?request=req_1|Open in Greenlight>' },
    ]);
  });

  it('leaves out a summary that shows nothing, since Slack refuses a message holding a blank text', () => {
    const message = renderSlackMessage(requestFixture({ context: { summary: '  \u200B ' } }), options);
    expect(messageProblems({ text: message.text, blocks: message.blocks })).toEqual([]);
    expect(JSON.stringify(message.blocks)).not.toContain('*Summary*');
    for (const block of message.blocks) if (block.type === 'section' && typeof block.text === 'object') expect((block.text as { text: string }).text.trim()).not.toBe('');
  });

  it('offers Approve, Deny and Open; a confirmation on Approve only for high and critical; only Open without chatApprove', () => {
    for (const risk of ['low', 'medium', 'high', 'critical'] as const) {
      const actions = renderSlackMessage(requestFixture({ risk }), options).blocks.find((block) => block.type === 'actions');
      const elements = actions?.elements as { text: { text: string }; confirm?: { title: { text: string } } }[];
      expect(elements.map((element) => element.text.text)).toEqual(['Approve', 'Deny', 'Open in Greenlight']);
      expect(elements[0]?.confirm?.title.text).toBe(risk === 'high' || risk === 'critical' ? `Approve a ${risk}-risk request?` : undefined);
    }
    const consoleOnly = renderSlackMessage(requestFixture({ risk: 'critical' }), { ...options, chatApprove: false }).blocks.find((block) => block.type === 'actions');
    expect((consoleOnly?.elements as { text: { text: string } }[]).map((element) => element.text.text)).toEqual(['Open in Greenlight']);
  });

  it('never cuts an escaped character in two when a text is split', () => {
    const pieces = splitEscaped('&amp;'.repeat(1000), 2998);
    expect(pieces.join('')).toBe('&amp;'.repeat(1000));
    for (const piece of pieces) expect(piece).toMatch(/^(&amp;)+$/);
  });
});
