import { shownHost, whoDecided, type GreenlightRequest, type NotificationEvent } from '../../../protocol/index.js';
import { clip, consoleLink, diffExcerpt, moreLinesNote, titleOf, utcClock } from '../chat-text.js';

/** Teams refuses a message larger than 28 KB; the card stays under it with room for the envelope. */
export const TEAMS_MESSAGE_LIMIT_BYTES = 28 * 1024;
export const ADAPTIVE_CARD_VERSION = '1.5';
export const ADAPTIVE_CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';

type Element = Record<string, unknown> & { type: string };

const HEADLINE: Record<NotificationEvent, string> = {
  'request.created': 'Approval requested',
  'request.escalated': 'Escalated: still waiting for a decision',
  'request.reminded': 'Reminder: still waiting for a decision',
  'request.decided': 'Decided',
  'request.expired': 'Expired: nobody decided in time',
  'request.cancelled': 'Cancelled by the requester',
  'request.break_glass': 'URGENT: break-glass, access taken without approval',
  'request.break_glass_overdue': 'URGENT: break-glass review overdue',
  'grant.issued': 'Grant issued',
  'grant.expiring': 'Grant expiring',
  'grant.revoked': 'Grant revoked',
  'audit.checkpoint': 'Audit checkpoint',
};

function outcome(request: GreenlightRequest): string | null {
  const at = request.decidedAt ? ` ${utcClock(request.decidedAt)}` : '';
  const by = whoDecided(request) ?? '?';
  if (request.status === 'approved') return `Approved by ${by}${at}${request.grant ? ` · grant until ${utcClock(request.grant.expiresAt)}` : ''}`;
  if (request.status === 'denied') return `Denied by ${by}${at}`;
  return null;
}

/** Our own words: a TextBlock, which Teams reads as Markdown. */
const text = (value: string, extra: Record<string, unknown> = {}): Element => ({ type: 'TextBlock', text: value, wrap: true, ...extra });

type Run = Record<string, unknown> & { text: string };
/**
 * Anything a requester wrote: TextRuns of a RichTextBlock, which Teams shows as they are. In a TextBlock,
 * `[Approve](https://…)` in a reason or a resource would be a link, and a removed diff line starting
 * "- " a bullet without its minus.
 */
const asWritten = (...runs: Run[]): Element => ({ type: 'RichTextBlock', inlines: runs.map((run) => ({ type: 'TextRun', ...run })) });

/** How much of the optional parts a card carries: each step down the ladder carries less. */
interface Shape {
  /** Lines of the diff; null: none. */
  diffLines: number | null;
  /** Characters of the summary; 0: none. */
  summaryChars: number;
  /** Link buttons besides "Open in Greenlight". */
  linkButtons: number;
  /** Characters of the alert (a break-glass one repeats the reason). */
  alertChars: number;
}

/**
 * From the whole card down to its core: the diff is shortened, then dropped; then the summary, the
 * link buttons and the alert's length go. Title, reason, risk and the console link always stay.
 */
const SHAPES: Shape[] = [
  ...[30, 15, 7, 3, 1, null].map((diffLines) => ({ diffLines, summaryChars: 4000, linkButtons: 5, alertChars: 4000 })),
  { diffLines: null, summaryChars: 1000, linkButtons: 5, alertChars: 4000 },
  { diffLines: null, summaryChars: 0, linkButtons: 5, alertChars: 4000 },
  { diffLines: null, summaryChars: 0, linkButtons: 0, alertChars: 4000 },
  { diffLines: null, summaryChars: 0, linkButtons: 0, alertChars: 200 },
];

function cardBody(type: NotificationEvent, request: GreenlightRequest, shape: Shape, alert: string | null): Element[] {
  const facts = [
    { title: 'Requester', value: request.requester },
    { title: 'Risk', value: request.risk.toUpperCase() },
    { title: 'Status', value: request.status },
  ];
  if (request.status === 'pending' && request.nextEscalationAt) facts.push({ title: 'Escalates', value: utcClock(request.nextEscalationAt) });
  if (request.status === 'pending' && request.expiresAt) facts.push({ title: 'Expires', value: utcClock(request.expiresAt) });
  const body: Element[] = [
    text(HEADLINE[type], { size: 'Small', isSubtle: true, spacing: 'None' }),
    ...(alert ? [asWritten({ text: clip(alert, shape.alertChars), weight: 'Bolder', color: 'Attention' })] : []),
    asWritten({ text: titleOf(request), size: 'Large', weight: 'Bolder' }),
    { type: 'FactSet', facts },
    asWritten({ text: 'Reason: ', weight: 'Bolder' }, { text: request.reason }),
  ];
  const decided = outcome(request);
  if (decided) body.push(asWritten({ text: decided, weight: 'Bolder', color: request.status === 'approved' ? 'Good' : 'Attention' }));
  if (request.context.summary && shape.summaryChars > 0) body.push(asWritten({ text: clip(request.context.summary, shape.summaryChars) }));
  if (request.context.diff && shape.diffLines !== null) {
    const { text: excerpt, moreLines } = diffExcerpt(request.context.diff, shape.diffLines);
    body.push(asWritten({ text: excerpt, fontType: 'Monospace', size: 'Small' }));
    if (moreLines > 0) body.push(text(moreLinesNote(moreLines), { isSubtle: true, size: 'Small' }));
  }
  return body;
}

/** A link's button: its title, then where it leads (a button shows no URL), so a title cannot pass for another site. */
function linkButtonTitle(link: { title: string; url: string }): string {
  const host = shownHost(link.url);
  return host ? `${clip(link.title, 60 - host.length - 3)} (${host})` : clip(link.title, 60);
}

/**
 * The Teams message for an event: an Adaptive Card 1.5 with the request's context and links that open
 * it in the web console. Buttons only open URLs: an incoming webhook cannot receive clicks (that needs
 * a bot). Under 28 KB, going down SHAPES until it fits: Teams refuses a larger message on every retry.
 */
export function renderTeamsMessage(type: NotificationEvent, request: GreenlightRequest, publicUrl: string, alert: string | null = null): string {
  const envelope = (shape: Shape) =>
    JSON.stringify({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: ADAPTIVE_CARD_SCHEMA,
            type: 'AdaptiveCard',
            version: ADAPTIVE_CARD_VERSION,
            msteams: { width: 'Full' },
            body: cardBody(type, request, shape, alert),
            actions: [
              { type: 'Action.OpenUrl', title: 'Open in Greenlight', url: consoleLink(publicUrl, request.id) },
              ...(request.context.links ?? []).slice(0, shape.linkButtons).map((link) => ({ type: 'Action.OpenUrl', title: linkButtonTitle(link), url: link.url })),
            ],
          },
        },
      ],
    });
  let message = '';
  for (const shape of SHAPES) {
    message = envelope(shape);
    if (Buffer.byteLength(message) <= TEAMS_MESSAGE_LIMIT_BYTES) break;
  }
  return message;
}
