/**
 * Which decision the keyboard sends from the comment box. Ctrl/⌘+Enter never picks one by itself:
 * it sends only what the person chose (by `a`/`d`, a button, or the choice under the box).
 */
export type Intent = 'approve' | 'deny' | null;

export type CtrlEnterOutcome = { send: 'approve' | 'deny' } | { ask: string };

export const CHOOSE_FIRST = 'Choose Approve or Deny first: Ctrl+Enter sends only the decision you chose.';

export function ctrlEnter(intent: Intent): CtrlEnterOutcome {
  return intent === null ? { ask: CHOOSE_FIRST } : { send: intent };
}

/** The hint under the comment box, which always says what Ctrl+Enter will do. */
export function ctrlEnterHint(intent: Intent): string {
  if (intent === 'deny') return 'denies with this comment';
  if (intent === 'approve') return 'approves with this comment';
  return 'sends nothing until you choose Approve or Deny';
}
