import type { SyncResult } from '../../../protocol/events.js';
import type { ExtendInput, GreenlightRequest, NewRequest } from '../../../protocol/request.js';
import type { Bridge, BridgeEvent } from '../bridge/bridge.js';
import { actionMessage, toWireError } from '../lib/errors.js';
import { onClusterStatus, readSetup } from './cluster-status.js';
import { applyRequest, applySync, dropDepartures, selectInbox, stepSelection } from './requests-model.js';
import { initialState, useStore, type View } from './store.js';

const DEPARTURE_MS = 6_000;
let bridge: Bridge | null = null;
let noticeSeq = 0;

function requireBridge(): Bridge {
  if (!bridge) throw new Error('startApp() was not called');
  return bridge;
}

export function getBridge(): Bridge {
  return requireBridge();
}

export async function startApp(host: Bridge): Promise<void> {
  bridge = host;
  host.subscribe(onBridgeEvent);
  try {
    const resumed = await host.resume();
    if (resumed.signedIn) onSynced(resumed.result);
    else useStore.setState({ phase: 'signed-out', signOutNote: resumed.signOutNote });
  } catch (error) {
    useStore.setState({ phase: 'signed-out', signInError: toWireError(error) });
  }
}

/** The latest sign-in started: one it replaced (a browser sign-in it cancelled) must not change the form when it ends. */
let signInAttempt = 0;

export async function signIn(hubUrl: string, token: string): Promise<void> {
  const attempt = ++signInAttempt;
  useStore.setState({ phase: 'signing-in', signInError: null, sessionEnded: false, signInNote: null });
  try {
    const result = await requireBridge().signIn(hubUrl.trim(), token.trim());
    if (attempt === signInAttempt) onSynced(result);
  } catch (error) {
    if (attempt === signInAttempt) useStore.setState({ phase: 'signed-out', signInError: toWireError(error) });
  }
}

/**
 * Desktop single sign-on: the system browser opens at the hub's sign-in; the app waits for it to come
 * back, or for the person to cancel or sign in another way (which cancels the wait).
 */
export async function signInWithBrowser(hubUrl: string): Promise<void> {
  const attempt = ++signInAttempt;
  useStore.setState({ phase: 'waiting-for-browser', signInError: null, sessionEnded: false, signInNote: null });
  try {
    const result = await requireBridge().signInWithBrowser(hubUrl.trim());
    if (attempt === signInAttempt) onSynced(result);
  } catch (error) {
    if (attempt !== signInAttempt) return;
    const wire = toWireError(error);
    // The person's own Cancel: back to the form, with nothing to explain.
    useStore.setState({ phase: 'signed-out', signInError: wire.code === 'CANCELLED' ? null : wire });
  }
}

/** The form comes back when the waiting sign-in ends as cancelled (above); only a failure to cancel is shown here. */
export async function cancelSignInWithBrowser(): Promise<void> {
  try {
    await requireBridge().cancelSignInWithBrowser();
  } catch (error) {
    signInAttempt += 1;
    useStore.setState({ phase: 'signed-out', signInError: toWireError(error) });
  }
}

export async function signOut(): Promise<void> {
  const note = await requireBridge().signOut();
  useStore.setState({ ...initialState, phase: 'signed-out', signOutNote: note });
}

/** Gone from the page at once; main forgets it too, so a reloaded window does not bring it back. */
export async function dismissSignOutNote(): Promise<void> {
  useStore.setState({ signOutNote: null });
  await requireBridge().dismissSignOutNote();
}

/** Someone who only asks (no approver role) has nothing waiting on them: they start on their own requests, and have no inbox. */
export const onlyRequests = (me: { roles: readonly string[] }) => me.roles.every((role) => role === 'requester');

function onSynced(result: SyncResult): void {
  useStore.setState((state) => ({
    // Also mid-session: an admin may have just taken the approver role away.
    ...(state.view === 'inbox' && onlyRequests(result.me) ? { view: 'mine' as const } : {}),
    phase: 'ready',
    state: 'connected',
    error: null,
    signOutNote: null,
    me: result.me,
    offers: result.offers,
    clockOffsetMs: Date.parse(result.serverTime) - Date.now() || 0,
    requests: applySync(state.requests, result, state.link?.id ?? null),
  }));
  // A linked request the sync doesn't carry stays on screen, and is read again: it may have changed meanwhile.
  const { link } = useStore.getState();
  if (link && ![...result.inbox, ...result.mine].some((request) => request.id === link.id)) void fetchLinked(true);
}

/** A sync follows a reconnect or a gap: a cluster status pushed meanwhile may have gone past this window. */
function refreshSetup(): void {
  const { setup, me } = useStore.getState();
  if (!setup || !me?.roles.includes('admin')) return;
  readSetup(requireBridge()).then(
    (fresh) => useStore.setState({ setup: fresh }),
    () => undefined,
  );
}

export function onRequest(request: GreenlightRequest): void {
  const before = useStore.getState().requests;
  useStore.setState((state) => ({ requests: applyRequest(state.requests, request, state.me, Date.now()) }));
  if (useStore.getState().requests.departed !== before.departed) {
    setTimeout(() => useStore.setState((state) => ({ requests: dropDepartures(state.requests, Date.now() - DEPARTURE_MS) })), DEPARTURE_MS + 50);
  }
}

function onBridgeEvent(event: BridgeEvent): void {
  switch (event.type) {
    case 'state': {
      const { phase } = useStore.getState();
      // Main's session carries why the last sign-out did not fully end it, until a sign-in succeeds: kept
      // whatever the phase, so it still shows once a sign-in begun meanwhile is cancelled. An error is never such a note.
      const note = event.signOutNote === undefined ? {} : { signOutNote: event.signOutNote };
      if (event.state === 'signed-out') {
        // A sign-in under way ends with its own answer; main dropping a session it replaced (a browser
        // sign-in's, cancelled) must not put the form back meanwhile and hide that it is busy.
        if (phase === 'signing-in' || phase === 'waiting-for-browser' || phase === 'signed-out') useStore.setState(note);
        else useStore.setState({ ...initialState, phase: 'signed-out', ...note });
      } else if (event.state === 'unauthorized' && phase === 'ready') {
        // The hub refused us mid-session (token revoked, user disabled): back to sign-in, saying why.
        const error = event.error ?? { code: 'UNAUTHENTICATED' as const, message: 'The hub closed the session.' };
        void requireBridge().signOut().finally(() => useStore.setState({ ...initialState, phase: 'signed-out', signInError: error, sessionEnded: true }));
      } else useStore.setState({ state: event.state, error: event.error, ...note, ...(event.signInNote ? { signInNote: event.signInNote } : {}) });
      return;
    }
    case 'sync': {
      // In the desktop app a sync comes only from a main process that is signed in and connected: one
      // arriving while this window shows sign-in (the hub was down when the app started) opens the app.
      const { phase } = useStore.getState();
      if (phase === 'ready' || (requireBridge().host === 'desktop' && (phase === 'signed-out' || phase === 'starting') && !useStore.getState().sessionEnded)) onSynced(event.result);
      refreshSetup();
      return;
    }
    case 'request:created':
    case 'request:updated':
      onRequest(event.request);
      return;
    case 'request:escalated':
    case 'request:reminded':
    case 'grant:expiring':
      onRequest(event.payload.request);
      return;
    case 'cluster:status':
      onClusterStatus(event.cluster);
      return;
    case 'open-request':
      void openRequest(event.requestId, event.view);
      return;
    case 'settings':
      useStore.setState({ settings: event.settings });
      return;
  }
}

export function showView(view: View): void {
  // Coming back to the form after submitting starts a new request, not the last one's status.
  useStore.setState((state) => ({ view, ...(view === 'new' && state.view !== 'new' ? { submittedId: null } : {}) }));
  // Requests I submitted elsewhere (CLI, a pipeline, another window) are pushed to me only once
  // they change, so fetch the full state when I look at my list.
  if (view === 'mine') void resync();
}

export async function resync(): Promise<void> {
  try {
    // Its answer reaches the store as a `sync` event, before the events pushed while it was read:
    // applying it again here, after them, would undo them.
    await requireBridge().sync();
  } catch {
    // The connection pill already says the hub is unreachable; the next reconnect resyncs.
  }
}

/**
 * A link into the console (Slack's and Teams' "Open in Greenlight"), or a desktop notification clicked,
 * opens that request in the inbox (or among my requests). One no longer waiting on me is not in the
 * sync: it is fetched, and shown as it now is (decided ones read-only); one the hub won't show leaves a
 * note, never another request in its place. Opened while signed out (a new tab of the web console
 * starts so), it waits for the sign-in.
 */
export async function openRequest(id: string, view: 'inbox' | 'mine' = 'inbox'): Promise<void> {
  useStore.setState({ view, selectedId: id, link: { id, note: null } });
  await fetchLinked();
}

/** Fetches the request the link names, once signed in; one already known only when `again`. */
async function fetchLinked(again = false): Promise<void> {
  const { link, phase, requests } = useStore.getState();
  if (!link || link.note !== null || phase !== 'ready' || (requests.byId[link.id] && !again)) return;
  const { id } = link;
  try {
    onRequest(await requireBridge().get(id));
  } catch (error) {
    const { code, message } = toWireError(error);
    if (useStore.getState().link?.id !== id) return;
    // Reading it again failed for a passing reason while a copy shows: the next sync tries again. The
    // hub's word that I may not see it (any more) takes the copy away, buttons and all.
    const refused = code === 'FORBIDDEN' || code === 'NOT_FOUND' || code === 'NOT_ELIGIBLE' || code === 'INSUFFICIENT_SCOPE';
    if (useStore.getState().requests.byId[id] && !refused) return;
    useStore.setState((state) => {
      const { [id]: _dropped, ...byId } = state.requests.byId;
      return {
        link: { id, note: `The request this link opens (${id}) can’t be shown: ${message}` },
        selectedId: state.selectedId === id ? null : state.selectedId,
        requests: { ...state.requests, byId },
      };
    });
  }
}

export function selectRequest(id: string | null): void {
  useStore.setState({ selectedId: id, link: null });
}

export function moveSelection(step: 1 | -1): void {
  const { requests, me, selectedId } = useStore.getState();
  const ids = selectInbox(requests.byId, me).map((request) => request.id);
  // Moving on from a linked request forgets the link, as choosing another does.
  useStore.setState({ selectedId: stepSelection(ids, selectedId, step), link: null });
}

export function notify(kind: 'info' | 'error', text: string): void {
  useStore.setState({ notice: { id: ++noticeSeq, kind, text } });
}

/** The person has read it; main holds it only until the next sign-in or sign-out, so only this window forgets it. */
export function dismissSignInNote(): void {
  useStore.setState({ signInNote: null });
}

export function dismissNotice(): void {
  useStore.setState({ notice: null });
}

/** Runs one call against the hub, marks it busy, applies the returned request, reports failure. */
async function run(
  key: string,
  requestId: string | null,
  call: (host: Bridge) => Promise<GreenlightRequest | null>,
  done?: string | ((request: GreenlightRequest | null) => string),
): Promise<GreenlightRequest | null> {
  // A second press while the first is in flight sends nothing: the first one's answer decides.
  if (useStore.getState().pending[key]) return null;
  useStore.setState((state) => ({ pending: { ...state.pending, [key]: true } }));
  try {
    const request = await call(requireBridge());
    if (request) onRequest(request);
    if (done) notify('info', typeof done === 'string' ? done : done(request));
    return request;
  } catch (error) {
    const wire = toWireError(error);
    notify('error', actionMessage(wire));
    if (wire.code === 'ALREADY_DECIDED' && requestId) void refreshStale(requestId);
    return null;
  } finally {
    useStore.setState((state) => {
      const { [key]: _done, ...rest } = state.pending;
      return { pending: rest };
    });
  }
}

/** `notBefore`: a start the approver moves access to (the requester is told). `onBehalfOf`: the approver a delegate decides for; absent: as myself. */
export const approve = (requestId: string, comment: string, notBefore?: string, onBehalfOf?: string) =>
  run(
    `decide:${requestId}`,
    requestId,
    (host) =>
      host.decide({ requestId, decision: 'approve', ...(comment.trim() ? { comment: comment.trim() } : {}), ...(notBefore ? { notBefore } : {}), ...(onBehalfOf ? { onBehalfOf } : {}) }),
    approvedMessage,
  );

function approvedMessage(request: GreenlightRequest | null): string {
  if (!request || request.status === 'approved') return 'Approved.';
  return `Your approval is in: ${request.approvals} of ${request.rule.minApprovals}.`;
}
export const deny = (requestId: string, comment: string, onBehalfOf?: string) =>
  run(`decide:${requestId}`, requestId, (host) => host.decide({ requestId, decision: 'deny', comment: comment.trim(), ...(onBehalfOf ? { onBehalfOf } : {}) }), 'Denied.');
export const claim = (requestId: string) => run(`claim:${requestId}`, requestId, (host) => host.claim(requestId), 'Claimed: other approvers see you are on it.');
export const release = (requestId: string) => run(`claim:${requestId}`, requestId, (host) => host.release(requestId));
export const cancelRequest = (requestId: string) => run(`cancel:${requestId}`, requestId, (host) => host.cancel(requestId), 'Request cancelled.');
/** `onBehalfOf`: the reviewer a delegate reviews for; absent: as myself. */
export const reviewBreakGlass = (requestId: string, outcome: 'ratified' | 'unratified', comment: string, onBehalfOf?: string) =>
  run(
    `review:${requestId}`,
    requestId,
    (host) => host.review({ requestId, outcome, comment: comment.trim(), ...(onBehalfOf ? { onBehalfOf } : {}) }),
    `${outcome === 'ratified' ? 'Ratified' : 'Marked unratified'}${onBehalfOf ? ` for ${onBehalfOf}` : ''}.`,
  );
export const cancelAsAdmin = (requestId: string, reason: string) => run(`cancel:${requestId}`, requestId, (host) => host.cancel(requestId, reason.trim()), 'Request cancelled; the requester is told why.');
/** Someone else got there first: fetch the request now, so the view shows who decided and when instead of stale buttons. */
async function refreshStale(requestId: string): Promise<void> {
  try {
    onRequest(await requireBridge().get(requestId));
  } catch {
    // Unreachable now: the next sync brings the request up to date.
  }
}
export const refresh = (requestId: string) => run(`get:${requestId}`, null, (host) => host.get(requestId));

export async function revokeGrant(requestId: string, jti: string): Promise<void> {
  const request = await run(`revoke:${jti}`, requestId, (host) => host.revokeGrant(jti), 'Access ended.');
  if (!request) await refresh(requestId);
}

/** More time on a grant about to end; resolves the extension request, or null when the hub refused (already told). */
export const extendGrant = (jti: string, input: ExtendInput) =>
  run(`extend:${jti}`, null, (host) => host.extendGrant(jti, input), (request) =>
    request?.status === 'approved' ? 'Extended: the new grant starts when this one ends.' : 'Extension asked: it waits for an approver.',
  );

/** Submits a new request; resolves the created request, or throws the hub's error for the form to show. */
export async function submitRequest(input: NewRequest): Promise<GreenlightRequest> {
  const request = await requireBridge().submit(input);
  onRequest(request);
  useStore.setState({ submittedId: request.id });
  return request;
}

export function clearSubmitted(): void {
  useStore.setState({ submittedId: null });
}
