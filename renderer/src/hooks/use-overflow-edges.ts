import { useEffect, useRef } from 'react';

/**
 * For a strip that scrolls sideways when its items don't fit (the tabs on a phone): marks which
 * edges hide more with `data-overflow="start" | "end" | "both"`, so CSS can fade those edges as a
 * visible "there is more" cue, and scrolls the current item (`[aria-current]`) fully into view.
 */
export function useOverflowEdges<T extends HTMLElement>(current: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    const strip = ref.current;
    if (!strip) return;
    const mark = () => {
      const start = strip.scrollLeft > 1;
      const end = strip.scrollLeft + strip.clientWidth < strip.scrollWidth - 1;
      const edges = start && end ? 'both' : start ? 'start' : end ? 'end' : null;
      if (edges) strip.dataset.overflow = edges;
      else delete strip.dataset.overflow;
    };
    mark();
    strip.addEventListener('scroll', mark, { passive: true });
    const resized = new ResizeObserver(mark);
    resized.observe(strip);
    return () => {
      strip.removeEventListener('scroll', mark);
      resized.disconnect();
    };
  }, []);
  useEffect(() => {
    const strip = ref.current;
    const item = strip?.querySelector<HTMLElement>('[aria-current]');
    if (!strip || !item) return;
    const left = item.offsetLeft - strip.offsetLeft;
    if (left < strip.scrollLeft) strip.scrollLeft = left;
    else if (left + item.offsetWidth > strip.scrollLeft + strip.clientWidth) strip.scrollLeft = left + item.offsetWidth - strip.clientWidth;
  }, [current]);
  return ref;
}
