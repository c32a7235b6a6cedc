import { useShallow } from 'zustand/react/shallow';
import { useStore } from '../store/store.js';

const LABELS: Record<string, string> = {
  connected: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  unreachable: 'Hub unreachable',
  unauthorized: 'Signed out by the hub',
  closed: 'Disconnected',
  'signed-out': 'Signed out',
};

export function ConnectionPill() {
  const { state, error } = useStore(useShallow((s) => ({ state: s.state, error: s.error })));
  return (
    <span className="pill" data-state={state} role="status" title={error?.message ?? undefined}>
      <span className="dot" aria-hidden="true" />
      {LABELS[state] ?? state}
    </span>
  );
}
