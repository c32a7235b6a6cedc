import type { Writable } from 'node:stream';
import type pg from 'pg';

/**
 * Statements a hub sends on one connection in one pass of the event loop (a group commit's reads,
 * its writes and COMMIT, pipelined) go out in one write instead of one each. Each write to the
 * socket is a system call that also wakes the PostgreSQL backend reading it; on a busy machine that
 * was the hub's largest single cost per submission. The socket is corked at the first write of a
 * pass and uncorked once the pass's promise jobs have run (`process.nextTick`), before the event
 * loop waits for anything, so no statement is held back from the database.
 */
export function coalesceWrites(client: pg.Client): void {
  const stream: Writable = client.connection.stream;
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as Writable['write'];
}
