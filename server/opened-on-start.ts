import type { Logger } from 'pino';

/** What a hub's start has opened so far, to close again if a later step of the start fails. */
export class OpenedOnStart {
  private readonly closers: (() => unknown)[] = [];

  constructor(private readonly log: Logger) {}

  add(close: () => unknown): void {
    this.closers.push(close);
  }

  /** Closes everything added, newest first; a part that fails to close is logged, and the rest still close. */
  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        this.log.warn({ err: error }, 'a part of the failed start did not close cleanly');
      }
    }
  }
}
