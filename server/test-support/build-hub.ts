import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { SPAWN_FROM_BUILD } from './hub-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function buildServer(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-server.mjs')], { cwd: ROOT, stdio: 'pipe' });
}

/**
 * Vitest's global setup: builds the hub and CLI (`npm run build:server`, a few seconds) before the
 * tests run, and again before each rerun in watch mode, so the hubs and CLI commands the tests spawn
 * start from JavaScript, about 0.35 s a command, instead of compiling TypeScript through tsx each
 * time, about 1 s. Workers inherit the variable; the processes they spawn do not (GREENLIGHT_* is
 * stripped). Two vitest runs at once in one checkout would rebuild under each other: run them in turn.
 */
export default function buildHubForTheRun(project: TestProject): void {
  buildServer();
  process.env[SPAWN_FROM_BUILD] = '1';
  project.onTestsRerun(buildServer);
}
