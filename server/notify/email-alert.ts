import type { EmailMessage, EmailPayload } from './email-payload.js';
import { html } from './html.js';
import { indentedAfterFirstLine } from '../../protocol/plain-text.js';

/** An urgent message (break-glass): it tells what happened and where to look; there is nothing to approve. */
export function renderAlertEmail(payload: EmailPayload, alert: string, consoleUrl: string): EmailMessage {
  const { request } = payload;
  const title = `${request.action} ${request.resource} → ${request.environment}`;
  const subject = `[Greenlight] URGENT: ${alert}`;
  const text = [indentedAfterFirstLine(alert, '  '), '', `Request:   ${title}`, `Requester: ${request.requester}`, `Rule:      ${request.rule}`, '', `Review it in the console: ${consoleUrl}`].join('\n');
  const body = html`<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1b1b1b;max-width:640px">
<p style="margin:0 0 8px;color:#cf222e;font-weight:bold">URGENT</p>
<h2 style="margin:0 0 8px">${alert}</h2>
<p>${title} · ${request.requester} · rule ${request.rule}</p>
<p><a href="${consoleUrl}">Review it in the console</a></p>
</body></html>`;
  return { subject, text, html: body.value };
}
