import type { Notification, NotificationActionEventParams, NotificationConstructorOptions } from 'electron';
import type { DesktopEvent } from '../protocol/desktop-api.js';
import type { DecideInput, GreenlightRequest } from '../protocol/request.js';
import type { Me } from './me.js';
import { reviewsFor, waitsOnMe } from '../protocol/waits-on-me.js';
import { formatIn, notificationBody, oneLine, requestBody, requestTitle } from './request-text.js';

/** The part of Electron's Notification we use (its `on` returns the class itself, so it is restated). */
export interface NotificationLike extends Pick<Notification, 'show' | 'close'> {
  on(event: 'click', listener: () => void): unknown;
  on(event: 'action', listener: (details: Pick<NotificationActionEventParams, 'actionIndex'>) => void): unknown;
}
export interface NotificationCtor {
  new (options: NotificationConstructorOptions): NotificationLike;
  isSupported(): boolean;
}

export interface NotificationDeps {
  Notification: NotificationCtor;
  platform: NodeJS.Platform;
  now: () => Date;
  me: () => Me | null;
  inbox: () => GreenlightRequest[];
  /** Paused, or switched off in settings. */
  muted: () => boolean;
  /** Shows a request: in the inbox, or (for the requester's own news) among My requests. */
  openRequest: (requestId: string, view?: 'inbox' | 'mine') => void;
  openInbox: () => void;
  decide: (input: DecideInput) => Promise<unknown>;
  /** Requests arriving within this window count as "at once". */
  batchMs?: number;
}

export const SUMMARY_THRESHOLD = 3;
const APPROVE = 0;
const DENY = 1;

interface Pending {
  request: GreenlightRequest;
  escalated: boolean;
  /** Which reminder this is, for a request that still waits on me; 0 when it is news. */
  reminder: number;
}

/**
 * One native notification per request that newly needs me; a burst of more than three becomes one
 * summary. A request decided elsewhere closes its notification, and a summary closes once every
 * request it counted has been.
 */
export class NotificationService {
  private readonly shown = new Map<string, NotificationLike>();
  private readonly seen = new Set<string>();
  /** Whose notifications `seen` holds: someone else signing in, signed out or not, starts afresh. */
  private seenFor: string | null = null;
  private queue: Pending[] = [];
  private summary: NotificationLike | null = null;
  /** The requests the summary counts that may still wait on me: it closes once none does. */
  private readonly summarised = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly deps: NotificationDeps) {}

  handle(event: DesktopEvent): void {
    // Signed out: what was shown belongs to someone who is no longer here.
    if (event.type === 'state' && !event.session.signedIn) {
      this.closeAll();
      // Whoever signs in next is told of what waits on them, even if it was shown to the one before.
      this.seen.clear();
      return;
    }
    const me = this.deps.me();
    if (!me) return;
    if (this.seenFor !== me.name) {
      this.seen.clear();
      this.seenFor = me.name;
    }
    switch (event.type) {
      case 'sync': {
        const open = new Set(this.deps.inbox().map((request) => request.id));
        for (const id of [...this.shown.keys(), ...this.summarised]) if (!open.has(id)) this.dismiss(id);
        for (const request of this.deps.inbox()) {
          this.enqueue(request, me, false);
          // A use of break-glass while this app was asleep or offline is news on waking too, as is its review gone overdue.
          this.breakGlassForMe(request, me);
          this.reviewOverdueForMe(request, me);
        }
        return;
      }
      case 'request:created':
        return this.enqueue(event.request, me, false);
      case 'request:escalated':
        return this.enqueue(event.payload.request, me, true);
      case 'request:reminded':
        return this.enqueue(event.payload.request, me, false, event.payload.reminder);
      case 'grant:expiring':
        return this.grantExpiring(event.payload.request, event.payload.expiresAt, me);
      case 'request:updated':
        // An update can also start something waiting on me (my own request, where I may approve it, arrives as one).
        if (waitsOnMe(event.request, me)) this.enqueue(event.request, me, false);
        else this.dismiss(event.request.id);
        this.cancelledForMe(event.request, me);
        this.breakGlassForMe(event.request, me);
        this.reviewOverdueForMe(event.request, me);
        return;
      default:
        return;
    }
  }

  /** Shows what has queued up since the last flush. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0 || this.deps.muted() || !this.deps.Notification.isSupported()) return;
    if (batch.length > SUMMARY_THRESHOLD) this.showSummary(batch);
    else for (const item of batch) this.showOne(item);
  }

  closeAll(): void {
    this.queue = [];
    for (const id of [...this.shown.keys()]) this.dismiss(id);
    this.closeSummary();
  }

  private closeSummary(): void {
    this.summary?.close();
    this.summary = null;
    this.summarised.clear();
  }

  private enqueue(request: GreenlightRequest, me: Me, escalated: boolean, reminder = 0): void {
    // A break-glass review has its own urgent notification, and nothing to approve or deny.
    if (request.breakGlass || !waitsOnMe(request, me)) return;
    // Keyed by level and reminder too: an escalation or a reminder of a request I was already told about is news.
    const key = `${request.id}@${escalated ? request.escalationLevel : 0}${reminder ? `#${reminder}` : ''}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.queue = this.queue.filter((item) => item.request.id !== request.id);
    this.queue.push({ request, escalated, reminder });
    this.timer ??= setTimeout(() => this.flush(), this.deps.batchMs ?? 300);
  }

  /** To the requester: their unused grant ends soon. Once per grant; nothing while paused. */
  private grantExpiring(request: GreenlightRequest, expiresAt: string, me: Me): void {
    const key = `${request.id}!grant-expiring`;
    if (request.requester !== me.name || this.seen.has(key)) return;
    this.seen.add(key);
    if (this.deps.muted() || !this.deps.Notification.isSupported()) return;
    const notification = new this.deps.Notification({
      title: `Your grant ends ${formatIn(Date.parse(expiresAt) - this.deps.now().getTime())}: ${requestTitle(request)}`,
      body: this.body('Use it before then, or extend it from My requests.'),
      urgency: 'normal',
    });
    notification.on('click', () => this.deps.openRequest(request.id, 'mine'));
    this.shown.get(request.id)?.close();
    this.shown.set(request.id, notification);
    notification.show();
  }

  /** To the requester: someone else (an admin) ended their request; who and why. Once per request. */
  private cancelledForMe(request: GreenlightRequest, me: Me): void {
    const key = `${request.id}!cancelled`;
    if (request.status !== 'cancelled' || request.requester !== me.name || request.decidedBy === me.name || this.seen.has(key)) return;
    this.seen.add(key);
    if (this.deps.muted() || !this.deps.Notification.isSupported()) return;
    const notification = new this.deps.Notification({
      title: `${request.decidedBy ?? 'An admin'} cancelled your request: ${requestTitle(request)}`,
      body: this.body(request.cancelReason ? oneLine(request.cancelReason, 200) : 'No reason given.'),
      urgency: 'normal',
    });
    notification.on('click', () => this.deps.openRequest(request.id, 'mine'));
    this.shown.get(request.id)?.close();
    this.shown.set(request.id, notification);
    notification.show();
  }

  /** To the rule's approvers and reviewers: someone broke the glass. Urgent, once per use; not to its user. */
  private breakGlassForMe(request: GreenlightRequest, me: Me): void {
    const key = `${request.id}!break-glass`;
    const glass = request.rule.breakGlass;
    if (!request.breakGlass || !glass || request.breakGlass.review !== 'open' || request.requester === me.name || this.seen.has(key)) return;
    // A reviewer's delegate owes the review as the reviewer does, so is told as urgently.
    if (!me.groups.some((group) => request.rule.approvers.includes(group) || glass.reviewers.includes(group)) && reviewsFor(request, me).length === 0) return;
    this.seen.add(key);
    if (this.deps.muted() || !this.deps.Notification.isSupported()) return;
    const notification = new this.deps.Notification({
      title: `Break-glass by ${request.requester} on ${request.rule.name}: ${oneLine(request.breakGlass.incident, 80)}`,
      // Said as the user's words, like every other body: their reason can't pass for the hub's own text.
      body: this.body(`${request.requester}: ${oneLine(request.reason, 120)}`),
      urgency: 'critical',
    });
    notification.on('click', () => this.deps.openRequest(request.id));
    this.shown.set(request.id, notification);
    notification.show();
  }

  /**
   * To its reviewers (and their delegates), and to those its review escalated to once overdue (groups
   * the rule's approvers are not): nobody reviewed a use of break-glass in time. Urgent, once per use;
   * not to its user.
   */
  private reviewOverdueForMe(request: GreenlightRequest, me: Me): void {
    const key = `${request.id}!review-overdue`;
    const glass = request.breakGlass;
    if (!glass || glass.review !== 'overdue' || request.requester === me.name || this.seen.has(key)) return;
    const chasing = (group: string) => glass.reviewers.includes(group) || (request.eligibleGroups.includes(group) && !request.rule.approvers.includes(group));
    if (!me.groups.some(chasing) && !request.eligibleUsers.includes(me.name) && reviewsFor(request, me).length === 0) return;
    this.seen.add(key);
    if (this.deps.muted() || !this.deps.Notification.isSupported()) return;
    const notification = new this.deps.Notification({
      title: `Break-glass review overdue: ${request.requester} on ${request.rule.name}: ${oneLine(glass.incident, 80)}`,
      body: this.body(`${request.requester}: ${oneLine(request.reason, 120)}`),
      urgency: 'critical',
    });
    notification.on('click', () => this.deps.openRequest(request.id));
    this.shown.get(request.id)?.close();
    this.shown.set(request.id, notification);
    notification.show();
  }

  private body(text: string): string {
    return notificationBody(text, this.deps.platform);
  }

  private dismiss(requestId: string): void {
    this.queue = this.queue.filter((item) => item.request.id !== requestId);
    this.shown.get(requestId)?.close();
    this.shown.delete(requestId);
    if (this.summarised.delete(requestId) && this.summarised.size === 0) this.closeSummary();
  }

  private showOne({ request, escalated, reminder }: Pending): void {
    const actions = this.deps.platform === 'darwin' || this.deps.platform === 'win32';
    const title = requestTitle(request);
    const notification = new this.deps.Notification({
      title: escalated ? `Escalated to you: ${title}` : reminder ? `Still waiting on you: ${title}` : title,
      body: this.body(requestBody(request, this.deps.now())),
      urgency: escalated || request.risk === 'critical' ? 'critical' : 'normal',
      ...(actions ? { actions: [{ type: 'button', text: 'Approve' }, { type: 'button', text: 'Deny' }] } : {}),
    });
    notification.on('click', () => this.deps.openRequest(request.id));
    notification.on('action', (details) => this.onAction(request, details.actionIndex));
    this.shown.get(request.id)?.close();
    // Kept referenced: a notification collected by the GC loses its click handler (electron/electron#12690).
    this.shown.set(request.id, notification);
    notification.show();
  }

  private showSummary(batch: Pending[]): void {
    const escalated = batch.filter((item) => item.escalated).length;
    const titles = batch.slice(0, 3).map((item) => requestTitle(item.request));
    const more = batch.length > 3 ? ` and ${batch.length - 3} more` : '';
    this.closeSummary();
    const summary = new this.deps.Notification({
      title: `${batch.length} requests need your approval${escalated ? ` (${escalated} escalated to you)` : ''}`,
      body: this.body(`${titles.join(', ')}${more}`),
      urgency: escalated ? 'critical' : 'normal',
    });
    summary.on('click', () => this.deps.openInbox());
    this.summary = summary;
    for (const item of batch) this.summarised.add(item.request.id);
    summary.show();
  }

  private onAction(request: GreenlightRequest, index: number): void {
    // Denying asks for a comment and a risky approval asks for confirmation: both happen in the window.
    if (index === DENY || (index === APPROVE && (request.risk === 'high' || request.risk === 'critical'))) {
      this.deps.openRequest(request.id);
      return;
    }
    if (index !== APPROVE) return;
    this.deps.decide({ requestId: request.id, decision: 'approve' }).catch((error: unknown) => this.approvalFailed(request, error));
  }

  /**
   * An approval from a notification that did not go through opens the request, and says why: after a
   * timeout the window alone would show it still pending with nothing to tell what happened.
   */
  private approvalFailed(request: GreenlightRequest, error: unknown): void {
    this.deps.openRequest(request.id);
    if (!this.deps.Notification.isSupported()) return;
    const why = error instanceof Error && error.message ? error.message : 'The hub did not take it.';
    const notification = new this.deps.Notification({ title: `Not approved: ${requestTitle(request)}`, body: this.body(oneLine(why, 200)), urgency: 'normal' });
    notification.on('click', () => this.deps.openRequest(request.id));
    this.shown.get(request.id)?.close();
    this.shown.set(request.id, notification);
    notification.show();
  }
}
