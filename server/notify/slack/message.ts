import { showsSomething, shownHost, whoDecided, whoVoted, type GreenlightRequest } from '../../../protocol/index.js';
import { clip, consoleLink, diffExcerpt, moreLinesNote, titleOf, utcClock } from '../chat-text.js';
import { listOf } from '../../domain/approver-reach.js';

/**
 * A request as a Slack message (Block Kit), within Slack's limits: at most 50 blocks, 3,000
 * characters per text, 150 per header, 75 per button label. Everything a requester wrote is escaped,
 * so a reason cannot ping `<!channel>` or forge a link.
 */

export const ACTION_APPROVE = 'greenlight_approve';
export const ACTION_DENY = 'greenlight_deny';
export const ACTION_OPEN = 'greenlight_open';
/** The buttons of the choice a delegate of several is offered: the action id ends with `:<name>`, unique in the message. */
export const ACTION_APPROVE_FOR = 'greenlight_approve_for';
export const ACTION_DENY_FOR = 'greenlight_deny_for';
export const DENY_MODAL = 'greenlight_deny_reason';
export const REASON_BLOCK = 'reason';
export const REASON_INPUT = 'reason';

const TEXT_MAX = 3000;
const HEADER_MAX = 150;
const FIELD_MAX = 2000;

interface Text {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}
export interface SlackBlock {
  type: string;
  block_id?: string;
  [key: string]: unknown;
}
export interface SlackMessage {
  /** The notification text (and what screen readers and old clients show). */
  text: string;
  blocks: SlackBlock[];
}

/** Slack's own escaping: only these three characters are control characters in message text. */
export const escapeSlack = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
const plain = (text: string, max: number): PlainText => ({ type: 'plain_text', text: clip(text, max), emoji: true });
const mrkdwn = (text: string): Text => ({ type: 'mrkdwn', text: clip(text, TEXT_MAX) });

/** A time every reader sees in their own zone, `HH:MM UTC` where a client cannot. */
export const slackTime = (iso: string): string => `<!date^${Math.floor(Date.parse(iso) / 1000)}^{time}|${utcClock(iso)}>`;

/** Cuts escaped text into pieces of at most `max` characters, never inside an `&amp;`-style entity. */
export function splitEscaped(text: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = max;
    const amp = rest.lastIndexOf('&', cut);
    if (amp > cut - 6 && !rest.slice(amp, cut).includes(';')) cut = amp;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  pieces.push(rest);
  return pieces;
}

/**
 * A requester's text under its label, in as many sections as it needs (a long reason is shown whole,
 * not cut). The text is plain_text: mrkdwn would let a reason set itself in bold or as a quote, and
 * pass for the hub's own words. Its &, < and > are still escaped, as Slack decodes them in any text.
 */
function labelledSections(label: string, escaped: string): SlackBlock[] {
  // Slack refuses a whole message over one blank text object.
  const pieces = splitEscaped(escaped, TEXT_MAX)
    .filter((piece) => piece.trim() !== '')
    .map((piece): SlackBlock => ({ type: 'section', text: { type: 'plain_text', text: piece, emoji: false } }));
  return [{ type: 'section', text: mrkdwn(`*${label}*`) }, ...pieces];
}

/** What notifications show of an alert: mrkdwn there, so escaped like the blocks. */
export const alertText = (alert: string): string => splitEscaped(escapeSlack(`:rotating_light: URGENT: ${alert}`), TEXT_MAX)[0]!;

/**
 * A break-glass alert, posted on its own: the hub's URGENT line, then the alert as plain text (it
 * carries the requester's incident and reason), then the link.
 */
export function alertBlocks(alert: string, link: string): SlackBlock[] {
  return [...labelledSections(':rotating_light: URGENT', escapeSlack(alert)), { type: 'section', text: mrkdwn(`<${link}|Open in Greenlight>`) }];
}

/** Links packed into as few texts as fit, each link whole. */
function linkSections(links: string[]): SlackBlock[] {
  const texts: string[] = [];
  for (const link of links) {
    const last = texts.length - 1;
    if (last >= 0 && (texts[last]?.length ?? 0) + link.length + 5 <= TEXT_MAX) texts[last] = `${texts[last]}  ·  ${link}`;
    else texts.push(link);
  }
  return texts.map((text) => ({ type: 'context', elements: [mrkdwn(text)] }));
}

/** A fenced excerpt of the diff: its first lines and how many more there are, within one text. */
function diffSection(diff: string): string {
  const { text, moreLines } = diffExcerpt(diff);
  let body = escapeSlack(text).replace(/```/g, '` ` `');
  let more = moreLines;
  const note = () => (more > 0 ? `\n${moreLinesNote(more)}` : '');
  // Cut whole lines until the fenced block and its note fit one text.
  while (`*Diff*\n\`\`\`${body}\`\`\`${note()}`.length > TEXT_MAX && body.includes('\n')) {
    body = body.slice(0, body.lastIndexOf('\n'));
    more += 1;
  }
  return `*Diff*\n\`\`\`${clip(body, TEXT_MAX - 40)}\`\`\`${note()}`;
}

const RISK_LABEL: Record<GreenlightRequest['risk'], string> = { low: 'low', medium: 'medium', high: ':warning: *HIGH*', critical: ':rotating_light: *CRITICAL*' };

const DENY_COMMENT_MAX = 500;

/** The comment of the deny that decided the request, if it gave one. */
const denyComment = (request: GreenlightRequest): string | null => [...request.decisions].reverse().find((decision) => decision.decision === 'deny')?.comment ?? null;

/** What happened to a decided request, in one line: "Approved by carol 14:02 · grant until 14:17" ("by dana for sue" when a delegate decided). */
export function outcomeLine(request: GreenlightRequest): string {
  const at = request.decidedAt ? ` ${slackTime(request.decidedAt)}` : '';
  const who = whoDecided(request);
  const by = who ? ` by ${escapeSlack(who)}` : '';
  switch (request.status) {
    case 'approved': {
      const grant = request.grant ? ` · grant ${request.grant.status === 'active' ? 'until' : `${request.grant.status}, was until`} ${slackTime(request.grant.expiresAt)}` : '';
      return `:white_check_mark: *Approved*${by}${at}${grant}`;
    }
    case 'denied':
      return `:no_entry: *Denied*${by}${at}`;
    case 'expired':
      return `:hourglass: *Expired*${at}: nobody decided in time`;
    case 'cancelled':
      return `:heavy_multiplication_x: *Cancelled*${by}${at}`;
    default:
      return '';
  }
}

export interface RenderOptions {
  publicUrl: string;
  /** The rule's `chatApprove`: false leaves only the link to the console. */
  chatApprove: boolean;
}

function buttons(request: GreenlightRequest, options: RenderOptions): SlackBlock {
  const open = { type: 'button', action_id: ACTION_OPEN, text: plain('Open in Greenlight', 75), url: consoleLink(options.publicUrl, request.id), value: request.id };
  if (!options.chatApprove) return { type: 'actions', block_id: 'decide', elements: [open] };
  const risky = request.risk === 'high' || request.risk === 'critical';
  const approve = {
    type: 'button',
    action_id: ACTION_APPROVE,
    text: plain('Approve', 75),
    style: 'primary',
    value: request.id,
    // High and critical risk take a second, deliberate click naming the risk.
    ...(risky
      ? {
          confirm: {
            title: plain(`Approve a ${request.risk}-risk request?`, 100),
            text: mrkdwn(clip(`This is *${request.risk.toUpperCase()} risk*: ${escapeSlack(titleOf(request))}. Approving issues a grant to ${escapeSlack(request.requester)} at once.`, 300)),
            confirm: plain(`Approve ${request.risk} risk`, 30),
            deny: plain('Back', 30),
            style: 'danger',
          },
        }
      : {}),
  };
  const deny = { type: 'button', action_id: ACTION_DENY, text: plain('Deny', 75), style: 'danger', value: request.id };
  return { type: 'actions', block_id: 'decide', elements: [approve, deny, open] };
}

/** The whole message for the request as it stands now. */
export function renderSlackMessage(request: GreenlightRequest, options: RenderOptions): SlackMessage {
  const title = titleOf(request);
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(title, HEADER_MAX) }];
  const fields: Text[] = [
    mrkdwn(`*Requester*\n${escapeSlack(clip(request.requester, FIELD_MAX - 20))}`),
    mrkdwn(`*Risk*\n${RISK_LABEL[request.risk]}`),
  ];
  if (request.status === 'pending' && request.nextEscalationAt) fields.push(mrkdwn(`*Escalates*\n${slackTime(request.nextEscalationAt)}`));
  if (request.status === 'pending' && request.expiresAt) fields.push(mrkdwn(`*Expires*\n${slackTime(request.expiresAt)}`));
  if (request.rule.minApprovals > 1) fields.push(mrkdwn(`*Approvals*\n${request.approvals} of ${request.rule.minApprovals}`));
  blocks.push({ type: 'section', fields });
  blocks.push(...labelledSections('Reason', escapeSlack(request.reason)));
  if (request.context.summary && showsSomething(request.context.summary)) blocks.push(...labelledSections('Summary', escapeSlack(request.context.summary)));
  if (request.context.diff) blocks.push({ type: 'section', text: mrkdwn(diffSection(request.context.diff)) });
  // Slack shows a link by its title alone: where it leads goes beside it, as the console shows.
  const links = (request.context.links ?? []).map((link) => {
    const host = shownHost(link.url);
    return `<${link.url.replace(/[<>|]/g, encodeURIComponent)}|${escapeSlack(link.title).replace(/\|/g, '¦')}>${host ? ` (${escapeSlack(host)})` : ''}`;
  });
  blocks.push(...linkSections(links));
  const votes = request.decisions.filter((decision) => decision.decision === 'approve').map((decision) => `${escapeSlack(whoVoted(decision))} ${slackTime(decision.at)}`);
  if (request.status === 'pending') {
    if (votes.length) blocks.push({ type: 'context', elements: [mrkdwn(`Approved so far by ${votes.join(', ')}`)] });
    if (request.claim) blocks.push({ type: 'context', elements: [mrkdwn(`${escapeSlack(request.claim.by)} is looking at it until ${slackTime(request.claim.until)}`)] });
    blocks.push(buttons(request, options));
  } else {
    blocks.push({ type: 'section', text: mrkdwn(outcomeLine(request)) });
    // The denier's words go below the hub's line, as plain text like a requester's reason.
    const comment = request.status === 'denied' ? denyComment(request) : null;
    if (comment) blocks.push(...labelledSections('Why it was denied', escapeSlack(clip(comment, DENY_COMMENT_MAX))));
    blocks.push({ type: 'actions', block_id: 'open', elements: [{ type: 'button', action_id: ACTION_OPEN, text: plain('Open in Greenlight', 75), url: consoleLink(options.publicUrl, request.id), value: request.id }] });
  }
  const state = request.status === 'pending' ? `${request.risk} risk, from ${request.requester}` : request.status;
  // Notifications show this text as mrkdwn: escaped like every text a requester wrote.
  return { text: splitEscaped(escapeSlack(`${title} (${state})`), TEXT_MAX)[0]!, blocks };
}

/** The modal Deny opens: one required reason. */
export interface SlackModal {
  type: 'modal';
  callback_id: string;
  private_metadata: string;
  title: PlainText;
  submit: PlainText;
  close: PlainText;
  blocks: SlackBlock[];
}

export function denyModal(request: GreenlightRequest, metadata: string): SlackModal {
  return {
    type: 'modal',
    callback_id: DENY_MODAL,
    private_metadata: metadata,
    title: plain('Deny request', 24),
    submit: plain('Deny', 24),
    close: plain('Cancel', 24),
    blocks: [
      { type: 'section', text: mrkdwn(`*${escapeSlack(clip(titleOf(request), 2800))}*\nfrom ${escapeSlack(request.requester)}`) },
      {
        type: 'input',
        block_id: REASON_BLOCK,
        label: plain('Why are you denying it?', 2000),
        element: { type: 'plain_text_input', action_id: REASON_INPUT, multiline: true, max_length: 2000, min_length: 1 },
      },
    ],
  };
}

/**
 * Answers a click on Approve or Deny from someone whose vote could count for more than one person (a
 * delegate of several approvers, or an approver who stands in for others too), to them alone: whom
 * they decide for, a button each (`me` first, "as yourself", when they may vote themselves). The
 * request's message is one for everyone (the channel's, and every direct message the same), so the
 * choice can't be on it.
 */
export function standInChoice(request: Pick<GreenlightRequest, 'id' | 'action' | 'resource' | 'environment'>, decision: 'approve' | 'deny', names: string[], me: string): SlackMessage {
  const verb = decision === 'approve' ? 'Approve' : 'Deny';
  const others = names.filter((name) => name !== me).map(escapeSlack);
  const title = escapeSlack(titleOf(request));
  const who = names.includes(me) ? `You are an approver of ${title} and stand in for ${listOf(others)}` : `You stand in for ${listOf(others)} on ${title}`;
  const question = `${who}, and vote once: whom do you ${decision} for?`;
  const elements = names.slice(0, 25).map((name) => ({
    type: 'button',
    action_id: `${decision === 'approve' ? ACTION_APPROVE_FOR : ACTION_DENY_FOR}:${name}`,
    text: plain(name === me ? `${verb} as yourself` : `${verb} for ${name}`, 75),
    ...(decision === 'approve' ? { style: 'primary' } : { style: 'danger' }),
    value: JSON.stringify({ requestId: request.id, onBehalfOf: name }),
  }));
  return { text: clip(question, TEXT_MAX), blocks: [{ type: 'section', text: mrkdwn(question) }, { type: 'actions', block_id: 'decide_for', elements }] };
}
