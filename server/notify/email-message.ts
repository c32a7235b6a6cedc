import { renderAlertEmail } from './email-alert.js';
import type { EmailMessage, EmailPayload } from './email-payload.js';
import { html, type Html } from './html.js';
import { indentedAfterFirstLine } from '../../protocol/plain-text.js';
import { safeHttpUrl } from '../../protocol/urls.js';
import { utcMinute } from './chat-text.js';
import { listOf } from '../domain/approver-reach.js';

/** An Approve and a Deny link deciding for `for`; null: as the recipient, or for the one person an unnamed vote counts for. */
export interface EmailLinkPair {
  for: string | null;
  approve: string;
  deny: string;
}

export interface EmailLinks {
  /** One pair, or one for each person a delegate may decide for (the payload's `decidesFor`). */
  pairs: EmailLinkPair[];
  console: string;
}

const HEADLINE: Partial<Record<EmailPayload['type'], string>> = {
  'request.created': 'waits for your decision',
  'request.escalated': 'was escalated to you',
  'request.reminded': 'still waits for your decision',
};

const BUTTON = 'color:#fff;padding:8px 16px;text-decoration:none;border-radius:4px;';

const indented = (block: string): string => `  ${indentedAfterFirstLine(block, '  ')}`;

const when = utcMinute;

/** The deadline an approver should know of: the next escalation, else the expiry. */
function deadline(request: EmailPayload['request']): string | null {
  if (request.nextEscalationAt) return `escalates at ${when(request.nextEscalationAt)}`;
  if (request.expiresAt) return `expires at ${when(request.expiresAt)}`;
  return null;
}

/** What a link's button says: `Approve`, `Approve as yourself`, `Approve for bob`. */
function labelOf(verb: 'Approve' | 'Deny', pair: EmailLinkPair, recipient: string): string {
  if (pair.for === null) return verb;
  return pair.for === recipient ? `${verb} as yourself` : `${verb} for ${pair.for}`;
}

/** For a delegate of several: one vote, and whom it is for is theirs to say (or the one it can still count for). */
function choiceNote(pairs: EmailLinkPair[], recipient: string): string | null {
  const only = pairs.length === 1 ? pairs[0]?.for : null;
  if (only && only !== recipient) return `You may decide this for ${only}, whom you stand in for: no other vote of yours would count now.`;
  if (pairs.length < 2) return null;
  const others = pairs.flatMap((pair) => (pair.for && pair.for !== recipient ? [pair.for] : []));
  const yourself = pairs.some((pair) => pair.for === recipient) ? 'as yourself or ' : '';
  return `You may decide this ${yourself}for ${listOf(others)}, whom you stand in for: you vote once, so choose whom for.`;
}

/** The message an approver gets for one event: plain text and HTML saying the same. */
export function renderEmail(payload: EmailPayload, links: EmailLinks): EmailMessage {
  if (payload.alert) return renderAlertEmail(payload, payload.alert, links.console);
  const { request } = payload;
  const title = `${request.action} ${request.resource} → ${request.environment}`;
  const headline = HEADLINE[payload.type] ?? 'changed';
  const due = deadline(request);
  const consoleNote = request.consoleOnly ? `Risk ${request.risk}: the links ask you to sign in to the console to decide.` : null;
  const subject = `[Greenlight] ${title} ${headline} (${request.requester}, risk ${request.risk})`;
  const recipient = payload.to.name;
  const choice = choiceNote(links.pairs, recipient);

  // The hub's own lines (the facts, then the links) come first, and every line the requester wrote
  // after the first of the reason is indented: none of theirs can pass for one of the hub's.
  const text = [
    `${title} ${headline}.`,
    '',
    `Requester: ${request.requester}`,
    `Reason:    ${indentedAfterFirstLine(request.reason, ' '.repeat(11))}`,
    `Risk:      ${request.risk}`,
    ...(due ? [`Deadline:  ${due}`] : []),
    `Rule:      ${request.rule}`,
    '',
    ...(consoleNote ? [consoleNote] : []),
    ...(choice ? [choice] : []),
    ...links.pairs.flatMap((pair) => [`${labelOf('Approve', pair, recipient)}: ${pair.approve}`, `${labelOf('Deny', pair, recipient)}:${pair.for === null ? '    ' : ' '}${pair.deny}`]),
    `Console: ${links.console}`,
    '',
    'Each link opens a page where you confirm; opening it decides nothing.',
    ...(request.summary ? ['', 'Summary:', indented(request.summary)] : []),
    ...(request.diffHead ? ['', 'Diff:', indented(request.diffHead), ...(request.diffMoreLines ? [`… ${request.diffMoreLines} more lines in the console`] : [])] : []),
    ...(request.links.length ? ['', 'Links:', ...request.links.map((link) => `- ${indentedAfterFirstLine(link.title, '  ')}: ${safeHttpUrl(link.url) ?? link.url}`)] : []),
  ].join('\n');

  const row = (label: string, value: string): Html => html`<tr><th style="text-align:left;padding:2px 12px 2px 0;color:#555">${label}</th><td>${value}</td></tr>`;
  const body = html`<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1b1b1b;max-width:640px">
<h2 style="margin:0 0 8px">${title}</h2>
<p style="margin:0 0 12px">${headline}.</p>
<table>${[row('Requester', request.requester), row('Reason', request.reason), row('Risk', request.risk), ...(due ? [row('Deadline', due)] : []), row('Rule', request.rule)]}</table>
${request.summary ? html`<p>${request.summary}</p>` : null}
${request.diffHead ? html`<pre style="background:#f5f5f5;padding:8px;overflow:auto">${request.diffHead}</pre>${request.diffMoreLines ? html`<p>… ${request.diffMoreLines} more lines in the console</p>` : null}` : null}
${request.links.length ? html`<ul>${request.links.map((link) => html`<li><a href="${safeHttpUrl(link.url) ?? ''}">${link.title}</a> <small style="color:#555">${safeHttpUrl(link.url) ?? link.url}</small></li>`)}</ul>` : null}
${consoleNote ? html`<p><strong>${consoleNote}</strong></p>` : null}
${choice ? html`<p>${choice}</p>` : null}
${links.pairs.map((pair) => html`<p><a href="${pair.approve}" style="${BUTTON}background:#1a7f37">${labelOf('Approve', pair, recipient)}</a>
&nbsp; <a href="${pair.deny}" style="${BUTTON}background:#cf222e">${labelOf('Deny', pair, recipient)}</a></p>`)}
<p><a href="${links.console}">Open the console</a></p>
<p style="color:#555;font-size:13px">Each link opens a page where you confirm; opening it decides nothing.</p>
</body></html>`;
  return { subject, text, html: body.value };
}
