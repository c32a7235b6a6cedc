import { GreenlightError, type WireError } from '../../../protocol/errors.js';

export function toWireError(error: unknown): WireError {
  if (error instanceof GreenlightError) return error.toWire();
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const { code, message } = error as { code: unknown; message: unknown };
    if (typeof code === 'string' && typeof message === 'string') return { code, message } as WireError;
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** What went wrong signing in, and what to do about it. */
export function signInMessage(error: WireError, hubUrl: string): { title: string; hint: string } {
  switch (error.code) {
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
      return {
        title: 'The hub refused this token.',
        hint: 'Check that you pasted the whole token (it starts with glt_) and that it has not been revoked; an admin can issue a new one.',
      };
    case 'UNAVAILABLE':
    case 'TIMEOUT':
      return {
        title: `Cannot reach the hub at ${hubUrl}.`,
        hint: 'Check the address and your network, and that the hub is running; then try again.',
      };
    case 'INVALID_INPUT':
      return { title: 'That hub address is not valid.', hint: 'Use the full address, for example https://greenlight.example.com.' };
    default:
      return { title: 'Sign-in failed.', hint: error.message };
  }
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
      return 'You are not an approver for this request.';
    case 'TIMEOUT':
      return 'The hub did not answer in time, so this may not have been recorded. Check the request once the connection is back.';
    case 'UNAVAILABLE':
      return 'Not sent: the hub is unreachable right now. Try again once it reconnects.';
    default:
      return error.message;
  }
}
