import { useEffect, useLayoutEffect, useRef } from 'react';

export type ShortcutMap = Partial<Record<string, () => void>>;

/** Whether a key press belongs to a text field (so `a` types an "a" there, not an approval). */
function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return target.closest('input, textarea, select, [role="dialog"], [role="alertdialog"]') !== null;
}

/** Single-key shortcuts on the document, ignored while typing or with a modifier held. */
export function useShortcuts(map: ShortcutMap, enabled = true): void {
  const latest = useRef(map);
  useLayoutEffect(() => {
    latest.current = map;
  });
  useEffect(() => {
    if (!enabled) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typingInto(event.target)) return;
      const handler = latest.current[event.key];
      if (!handler) return;
      event.preventDefault();
      handler();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [enabled]);
}
