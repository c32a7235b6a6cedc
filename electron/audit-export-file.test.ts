import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../server/test-support/eventually.js';
import { removeUnfinishedExports, writeExportFile } from './audit-export-file.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('an export still being written when the app quits', () => {
  it('leaves no hidden half file behind in the folder chosen', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'greenlight-export-'));
    folders.push(folder);
    // A download under way: one line arrived, the rest never does before the quit.
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    controller?.enqueue(new TextEncoder().encode('{"seq":1}\n'));
    const writing = writeExportFile(body, path.join(folder, 'greenlight-audit.jsonl'), 'jsonl').catch(() => undefined);
    await eventually(() => readdirSync(folder).some((name) => name.endsWith('.partial')));

    removeUnfinishedExports();
    expect(readdirSync(folder)).toEqual([]);
    controller?.error(new Error('the app quit'));
    await writing;
  });
});
