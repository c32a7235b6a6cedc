import { GreenlightError, type WireError } from '../../../protocol/errors.js';

export function toWireError(error: unknown): WireError {
  if (error instanceof GreenlightError) return error.toWire();
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const { code, message } = error as { code: unknown; message: unknown };
    if (typeof code === 'string' && typeof message === 'string') return { code, message } as WireError;
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

const REFUSED_TITLE = 'The hub refused this token.';
const PASTE_ADVICE = 'Check that you pasted the whole token (it starts with glt_) and that it has not been revoked; an admin can issue a new one.';
const NETWORK_ADVICE = 'Check the address and your network, and that the hub is running; then try again.';

/** The hub's refusal of a token it does not know says no more than our advice on pasting it does. */
const UNKNOWN_TOKEN = /^This token is not valid \([^)]*\)\. Ask an admin for a new one\.$/;
/** What the desktop app adds when it reopens a saved session it cannot connect yet: it keeps trying by itself. */
export const STILL_SIGNED_IN = 'You are still signed in: the app keeps trying and opens as soon as the hub answers.';
/** An address that does not parse is the one generic address problem; the app's own refusals (http to another machine) say more. */
const UNPARSED_ADDRESS = /hubUrl: must be an http:\/\/ or https:\/\/ URL$/;

/**
 * What went wrong signing in, and what to do about it. Our own advice only where the error says no
 * more than its code; where the hub or the app explained (a locked keychain, an expired token,
 * http to another machine, "you are still signed in"), its explanation is the hint.
 */
export function signInMessage(error: WireError, hubUrl: string): { title: string; hint: string } {
  const said = error.message.trim();
  switch (error.code) {
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
      return { title: REFUSED_TITLE, hint: !said || UNKNOWN_TOKEN.test(said) ? PASTE_ADVICE : said };
    case 'UNAVAILABLE':
    case 'TIMEOUT':
      // Only the client that saw nothing answer marks it so: then the network, or a hub that is down, is to blame.
      if (error.noAnswer) return { title: `Cannot reach the hub at ${hubUrl}.`, hint: said.endsWith(STILL_SIGNED_IN) ? STILL_SIGNED_IN : NETWORK_ADVICE };
      // The hub answered: it is unavailable for a reason of its own (its database), which it says.
      if (!said) return { title: 'Sign-in failed.', hint: error.code === 'TIMEOUT' ? 'The hub did not answer in time; try again in a moment.' : 'The hub is unavailable right now; try again in a moment.' };
      return { title: 'Sign-in failed.', hint: said };
    case 'INVALID_INPUT':
      if (!said || UNPARSED_ADDRESS.test(said)) return { title: 'That hub address is not valid.', hint: 'Use the full address, for example https://greenlight.example.com.' };
      return { title: 'Sign-in failed.', hint: said };
    default:
      return { title: 'Sign-in failed.', hint: said };
  }
}

const NOT_SENT = 'Not sent: the hub is unreachable right now. Try again once it reconnects.';
/** Said where the request may have reached the hub before its answer was lost; as the request form says it of a submission. */
const MAY_HAVE_BEEN_DONE = 'The hub did not answer, so this may or may not have been done. Check once reconnected.';

/**
 * Why a read (a list, the settings) failed, to follow "Could not load …: ". Nothing was changed by
 * it, so unlike an action it never says "not sent" or "may have been done": only that the hub did
 * not answer, or what the hub said when it did.
 */
export function loadMessage(error: WireError): string {
  if (error.code === 'TIMEOUT' || (error.code === 'UNAVAILABLE' && error.noAnswer)) return 'the hub did not answer. Try again once the connection is back.';
  return error.message;
}

/** A sentence for a failed action, naming the common codes in plain words. */
export function actionMessage(error: WireError): string {
  switch (error.code) {
    case 'ALREADY_DECIDED':
      // The hub's sentence says who decided ("already approved by carol"); the view refreshes to match.
      return error.message || 'Someone already decided this request.';
    case 'SELF_APPROVAL':
      return 'You cannot approve your own request.';
    case 'NOT_ELIGIBLE':
      // The hub's sentence says why (whose delegate you are not, who has been disabled, whom it needs).
      return error.message || 'You are not an approver for this request.';
    case 'TIMEOUT':
      return 'The hub did not answer in time, so this may not have been recorded. Check the request once the connection is back.';
    case 'UNAVAILABLE':
      // Only a connection never made means nothing left; a reset after the request went out (or a
      // browser's fetch, which never says which) may have been acted on. A hub that answered says why
      // it could not (its database is away).
      if (error.neverSent || (!error.noAnswer && !error.message)) return NOT_SENT;
      if (error.noAnswer) return MAY_HAVE_BEEN_DONE;
      return error.message;
    default:
      return error.message;
  }
}
