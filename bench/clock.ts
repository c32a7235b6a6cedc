/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one
 * machine: performance.timeOrigin + performance.now(). Each process fixes its timeOrigin at start,
 * so two processes may disagree by a fraction of a millisecond; figures that cross processes say so.
 */
export const wallMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, polling; throws after `timeoutMs` with `what` in the message. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
