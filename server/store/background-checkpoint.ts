import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

// Plain CommonJS run in a worker thread, so it needs no TypeScript loader wherever the hub runs.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Copies the SQLite write-ahead log back into the database file from a worker thread. Left to the
 * writer, that copy (and its fsyncs) runs inside a commit on the hub's event loop, stalling every
 * request and push behind it; here it runs beside them. The writer keeps a high automatic
 * checkpoint threshold as a backstop, so the log stays bounded even if this worker stops.
 */
export function startBackgroundCheckpoint(file: string, log: Pick<Logger, 'warn'>, everyMs = 200): () => Promise<void> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, everyMs } });
  let lastWarning = 0;
  worker.on('message', (message: { error?: string }) => {
    if (!message.error || Date.now() - lastWarning < 60_000) return;
    lastWarning = Date.now();
    log.warn({ error: message.error }, 'background checkpoint failed; the writer will checkpoint instead');
  });
  worker.on('error', (error) => log.warn({ err: error }, 'background checkpoint stopped; the writer will checkpoint instead'));
  worker.unref();
  return async () => {
    // Held while it stops: with nothing else left, an unreferenced worker would let the process end mid-shutdown.
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
    await worker.terminate();
  };
}
