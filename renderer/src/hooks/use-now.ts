import { useEffect, useState } from 'react';
import { useStore } from '../store/store.js';

/** The hub's current time in ms, re-rendering every `intervalMs`. */
export function useNow(intervalMs = 1_000): number {
  const offset = useStore((state) => state.clockOffsetMs);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now + offset;
}
