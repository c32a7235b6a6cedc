import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.js';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;
type RunInTransaction = <T>(work: Work<T>) => Promise<T>;

interface Job {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit: writes that arrive together share one transaction, so a burst of submissions pays
 * for one commit (and one audit chain-head write) instead of one each. Each caller still learns its
 * own outcome only after that commit. If the shared transaction fails, every job in it is run again
 * alone, so one failing write never fails the others.
 *
 * Jobs queue while a batch is being written and go together in the next. The first job of a quiet
 * period waits only until the current I/O phase has been read (`setImmediate`), which is what lets
 * submissions read from several sockets at once share a commit.
 */
export class GroupCommit {
  private queue: Job[] = [];
  private draining: Promise<void> | null = null;

  constructor(
    private readonly runInTransaction: RunInTransaction,
    private readonly maxBatch = 256,
  ) {}

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= new Promise<void>((scheduled) => setImmediate(scheduled)).then(() => this.drain());
    });
  }

  /** Settles once everything queued so far has been written (or has failed). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.write(this.queue.splice(0, this.maxBatch));
    } finally {
      this.draining = null;
    }
  }

  private async write(batch: Job[]): Promise<void> {
    if (batch.length > 1) {
      const results = await this.runInTransaction(async (trx) => {
        const out: unknown[] = [];
        for (const job of batch) out.push(await job.work(trx));
        return out;
      }).catch(() => null);
      if (results) {
        batch.forEach((job, index) => job.resolve(results[index]));
        return;
      }
    }
    for (const job of batch) {
      await this.runInTransaction(job.work).then(job.resolve, job.reject);
    }
  }
}
