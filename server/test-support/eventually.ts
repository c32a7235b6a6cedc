export interface EventuallyOptions {
  /** What is awaited, for the error when it never happens. */
  what?: string;
  /** How long to keep checking, in ms from the first check (30 s unless given). */
  deadline?: number;
  /** The pause between checks, in ms. */
  every?: number;
}

/**
 * Checks until `check` returns something other than `undefined` or `false`, and resolves with it; for
 * what happens on the wall clock (a reconnect, a delivery, a deadline). Past the deadline it throws.
 */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, options: EventuallyOptions = {}): Promise<T> {
  const { what = 'a condition', deadline = 30_000, every = 100 } = options;
  const giveUpAt = Date.now() + deadline;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > giveUpAt) throw new Error(`timed out after ${deadline} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}
