import { useSyncExternalStore } from 'react';
import { useStore } from '../store/store.js';
import { subscribeTick, tickNow } from '../lib/ticker.js';

/**
 * The hub's current time in ms, re-rendering once a second. Every caller reads the one shared
 * ticker, so the inbox row and the detail pane never show countdowns a second apart.
 */
export function useNow(): number {
  const offset = useStore((state) => state.clockOffsetMs);
  const now = useSyncExternalStore(subscribeTick, tickNow);
  return now + offset;
}
