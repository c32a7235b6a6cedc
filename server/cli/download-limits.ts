/** How long a download from the hub may take to start, and how long it may then go quiet. */
export interface DownloadLimits {
  /** Until the answer's headers arrive: the hub makes the backup, or reads the first page, before it answers. */
  answerMs: number;
  /** Between bytes once the body flows: a download still arriving is never cut off, one that stalled is. */
  idleMs: number;
}

export const DOWNLOAD_LIMITS: DownloadLimits = { answerMs: 10 * 60_000, idleMs: 60_000 };

/**
 * The body as it arrives, failing with `stalled()` (and calling `abort` with it, to drop the
 * connection) once `idleMs` pass with the reader waiting and no byte arriving. Only time spent
 * waiting on the hub counts: a reader busy elsewhere (a slow disk, a pipe read slowly) pauses the clock.
 */
export function idleGuarded(body: ReadableStream<Uint8Array>, idleMs: number, stalled: () => Error, abort: (reason: Error) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let quiet = null as Error | null;
        const timer = setTimeout(() => {
          quiet = stalled();
          abort(quiet);
        }, idleMs);
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          throw quiet ?? error;
        } finally {
          clearTimeout(timer);
        }
      },
      cancel: (reason: unknown) => reader.cancel(reason),
    },
    // Nothing is read ahead of the reader, so its own pauses never count as the hub's silence.
    { highWaterMark: 0 },
  );
}
