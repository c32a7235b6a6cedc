import type { ActionRequest, EmailActionResult, Moot } from '../notify/email-actions.js';
import { listOf } from '../domain/approver-reach.js';
import { html, type Html } from '../notify/html.js';
import { utcMinute } from '../notify/chat-text.js';

/** The status code and small HTML page each state of an email link answers with. */
export interface Page {
  status: number;
  body: string;
}

const when = (iso: string | null): string => (iso ? utcMinute(iso) : 'an unknown time');
const PAST: Record<string, string> = { approved: 'approved', denied: 'denied', expired: 'expired', cancelled: 'cancelled', pending: 'still pending' };

function layout(title: string, content: Html): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${title} · Greenlight</title>
<style>
body{font-family:system-ui,sans-serif;color:#1b1b1b;background:#f6f7f9;margin:0;padding:24px}
main{max-width:560px;margin:0 auto;background:#fff;border:1px solid #d8dce2;border-radius:8px;padding:24px}
h1{font-size:20px;margin:0 0 16px}th{text-align:left;color:#555;padding:2px 16px 2px 0;vertical-align:top;font-weight:500}
textarea{width:100%;box-sizing:border-box;min-height:80px;font:inherit;margin:4px 0 12px}
button{font:inherit;padding:8px 20px;border:0;border-radius:6px;color:#fff;cursor:pointer}
.approve{background:#1a7f37}.deny{background:#cf222e}.note{color:#555;font-size:14px}
</style></head><body><main>${content}</main></body></html>`.value;
}

function details(request: ActionRequest): Html {
  return html`<table>
<tr><th>What</th><td>${request.action} ${request.resource} → ${request.environment}</td></tr>
<tr><th>Who</th><td>${request.requester}</td></tr>
<tr><th>Why</th><td>${request.reason}</td></tr>
<tr><th>Risk</th><td>${request.risk}</td></tr>
${request.summary ? html`<tr><th>Summary</th><td>${request.summary}</td></tr>` : null}
</table>`;
}

const consoleLink = (consoleUrl: string): Html => html`<p><a href="${consoleUrl}">Open the Greenlight console</a></p>`;

const whoDecides = (approver: string, onBehalfOf: string | null): string =>
  onBehalfOf === null || onBehalfOf === approver ? `You decide as ${approver}.` : `You decide for ${onBehalfOf}, as their delegate (${approver}).`;

/** Why a vote for someone would not count now, and what the recipient may still do. */
function mootPage(approver: string, forWhom: string, why: Moot, stillFor: string[]): Html {
  const yourself = forWhom === approver;
  const whose = yourself ? 'Your vote' : `${forWhom}'s vote`;
  const headline = why.kind === 'voted' ? `${whose} is already in` : `${whose} would no longer count`;
  const reason =
    why.kind === 'voted'
      ? `${forWhom} already voted to ${why.decision} this request${why.by ? ` (cast by ${why.by === approver ? 'you' : why.by})` : ''}; one person votes once.`
      : `Every line ${yourself ? 'you count' : `${forWhom} counts`} toward (${why.lines.join(', ') || 'none'}) already has the approvals it needs: ${why.progress}.`;
  const still = stillFor.map((name) => (name === approver ? 'as yourself' : `for ${name}`));
  const next = still.length ? `You can still decide it ${listOf(still)}: use those links in the email, or the console.` : 'Nothing on it is left for you to decide.';
  return html`<h1>${headline}</h1><p>${reason} This link decided nothing.</p><p>${next}</p>`;
}

/** Renders what a link shows; `consoleUrl` is where people sign in to the console. */
export function emailActionPage(result: EmailActionResult, consoleUrl: string): Page {
  switch (result.kind) {
    case 'unknown':
      return { status: 404, body: layout('Link not valid', html`<h1>This link is not valid</h1><p>It may be incomplete (some mail programs cut long links) or it was never sent by this Greenlight. Open the console to find the request.</p>${consoleLink(consoleUrl)}`) };
    case 'expired':
      return { status: 410, body: layout('Link expired', html`<h1>This link has expired</h1>${details(result.request)}<p>Links in email work for 24 hours at most, and never past the request's own expiry; this one ended at ${when(result.expiredAt)}. Nothing was decided. Open the console to see where the request stands.</p>${consoleLink(consoleUrl)}`) };
    case 'closed': {
      const headline = result.status === 'pending' && result.votedTo && !result.usedAt
        ? html`<h1>You already voted</h1><p>You voted to ${result.votedTo} this request; one person votes once. It is still pending, waiting for others.</p>`
        : result.status === 'pending'
        ? html`<h1>This link was already used</h1><p>It was used at ${when(result.usedAt)}; the request is still pending, waiting for others.</p>`
        : result.decidedBy
          ? html`<h1>Already ${PAST[result.status] ?? result.status}</h1><p>This request was ${PAST[result.status] ?? result.status} by ${result.decidedBy} at ${when(result.decidedAt)}. Nothing more to decide.</p>`
          : html`<h1>Already ${PAST[result.status] ?? result.status}</h1><p>This request was ${PAST[result.status] ?? result.status} at ${when(result.decidedAt)}. Nothing more to decide.</p>`;
      return { status: 409, body: layout('Already decided', html`${headline}${details(result.request)}${consoleLink(consoleUrl)}`) };
    }
    case 'console':
      return { status: 403, body: layout('Decide in the console', html`<h1>Please decide in the console</h1>${details(result.request)}<p>Requests of ${result.request.risk} risk are decided after signing in, not from an email link. Nothing was decided.</p>${consoleLink(consoleUrl)}`) };
    case 'open': {
      const approve = result.decision === 'approve';
      const form = approve
        ? html`<form method="post"><button class="approve" type="submit">Approve</button></form>`
        : html`<form method="post"><label for="comment">Why deny? (optional, the requester sees it)</label><textarea id="comment" name="comment" maxlength="2000"></textarea><button class="deny" type="submit">Deny</button></form>`;
      return { status: 200, body: layout(approve ? 'Approve?' : 'Deny?', html`<h1>${approve ? 'Approve' : 'Deny'} this request?</h1>${details(result.request)}<p class="note">${whoDecides(result.approver, result.onBehalfOf)} Nothing happens until you press the button.</p>${form}`) };
    }
    case 'decided': {
      const headline = result.status === 'pending' ? 'Your approval is recorded' : result.status === 'approved' ? 'Approved' : result.status === 'denied' ? 'Denied' : `The request is ${result.status}`;
      const note = result.status === 'pending' ? 'The rule needs more approvals; the request stays pending until they come.' : `The request is ${PAST[result.status] ?? result.status}; the requester has been told.`;
      return { status: 200, body: layout(headline, html`<h1>${headline}</h1>${details(result.request)}<p>${note}</p>${consoleLink(consoleUrl)}`) };
    }
    case 'moot':
      return { status: 409, body: layout('Would not count', html`${mootPage(result.approver, result.forWhom, result.why, result.stillFor)}${details(result.request)}${consoleLink(consoleUrl)}`) };
    case 'refused':
      return { status: 403, body: layout('Not decided', html`<h1>Not decided</h1>${details(result.request)}<p>${result.message}</p>${consoleLink(consoleUrl)}`) };
  }
}
