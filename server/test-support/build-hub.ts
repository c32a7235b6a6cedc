import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SPAWN_FROM_BUILD } from './hub-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Vitest's global setup: builds the hub and CLI once per run (`npm run build:server`, a few seconds),
 * so the hubs and CLI commands the tests spawn start from JavaScript, about 0.35 s a command, instead
 * of compiling TypeScript through tsx each time, about 1 s. It is a build of the sources as they are
 * when the run starts; in watch mode, later edits reach spawned processes on the next run (until then
 * bin/greenlight.mjs notes that dist/server is older than the sources). Workers inherit the variable.
 */
export default function buildHubOnce(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-server.mjs')], { cwd: ROOT, stdio: 'pipe' });
  process.env[SPAWN_FROM_BUILD] = '1';
}
