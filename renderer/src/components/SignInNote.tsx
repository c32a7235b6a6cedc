import { dismissSignInNote } from '../store/actions.js';
import { useStore } from '../store/store.js';

/** What a sign-in that succeeded left to do by hand: not an error, so it stays until dismissed rather than fading. */
export function SignInNote() {
  const note = useStore((state) => state.signInNote);
  if (!note) return null;
  return (
    <div className="notice sign-in-note" role="status" data-testid="sign-in-note">
      <span>{note}</span>
      <button type="button" className="link-button" onClick={dismissSignInNote}>
        Dismiss
      </button>
    </div>
  );
}
