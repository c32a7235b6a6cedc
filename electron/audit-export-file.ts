import { randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GreenlightError } from '../protocol/errors.js';
import { reasonOf } from '../protocol/hub-http-error.js';

export type ExportFormat = 'csv' | 'jsonl';

const NEWLINE = 0x0a;
const QUOTE = 0x22;

/**
 * Passes the bytes on untouched and counts the events they hold: one per line of JSON lines; one per
 * CSV row after the header, where a line break inside a quoted cell does not end a row (a doubled
 * quote toggles twice, so it leaves the count alone).
 */
class EventCounter extends Transform {
  private lines = 0;
  private quoted = false;

  constructor(private readonly format: ExportFormat) {
    super();
  }

  get events(): number {
    return this.format === 'csv' ? Math.max(0, this.lines - 1) : this.lines;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    for (const byte of chunk) {
      if (byte === QUOTE && this.format === 'csv') this.quoted = !this.quoted;
      else if (byte === NEWLINE && !this.quoted) this.lines++;
    }
    done(null, chunk);
  }
}

/** Reading the hub's answer failed (the connection dropped), as opposed to writing the file. */
class DownloadCut extends Error {}

/** The body's chunks as they come; stopped early (the file could not be written), it cancels the download. */
async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read().catch((error: unknown) => {
        throw new DownloadCut(reasonOf(error));
      });
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

/**
 * Streams an export's body into `target`, so however long the history, no more than a chunk of it is
 * in memory. It is written beside the target and renamed at the end: a download that fails or is
 * stopped leaves no half file under the chosen name (and a file already there as it was).
 */
export async function writeExportFile(body: ReadableStream<Uint8Array>, target: string, format: ExportFormat): Promise<{ events: number }> {
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.partial`);
  const source = Readable.from(chunksOf(body));
  const counter = new EventCounter(format);
  unfinished.add(partial);
  try {
    // An audit log is for admins' eyes: readable by its owner only, as the CLI writes it.
    await pipeline(source, counter, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    if (error instanceof DownloadCut) {
      throw new GreenlightError('UNAVAILABLE', `The export stopped before the hub sent all of it (${error.message}); nothing was saved as ${path.basename(target)}. Try again.`);
    }
    throw new GreenlightError('INTERNAL', `Could not save the export as ${target}: ${reasonOf(error)}. Choose another name or folder (or free some space) and try again.`);
  } finally {
    unfinished.delete(partial);
  }
  return { events: counter.events };
}

/** The hidden files of exports still being written. */
const unfinished = new Set<string>();

/**
 * Removes the hidden files of exports still being written, for the app's last moment: a quit does not
 * wait for a download of any length, and its half file would stay hidden in the folder chosen.
 */
export function removeUnfinishedExports(): void {
  for (const partial of unfinished) rmSync(partial, { force: true });
  unfinished.clear();
}
