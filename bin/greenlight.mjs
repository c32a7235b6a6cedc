#!/usr/bin/env node
// The `greenlight` command: runs the compiled CLI and hub in dist/server (`npm run build`).
// GREENLIGHT_FROM_SOURCE=1 runs the TypeScript sources through tsx instead: for development, and for
// the Playwright suite. The vitest suites build dist/server before they start, then run that.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'dist', 'server', 'greenlight.mjs');

/** Newest modification time of the TypeScript under these folders (0 when there are none, as in an image). */
function newestSource(...folders) {
  let newest = 0;
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  for (const folder of folders) if (existsSync(folder)) visit(folder);
  return newest;
}

let main;
if (process.env.GREENLIGHT_FROM_SOURCE === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../server/cli/main.ts'));
} else if (existsSync(built)) {
  if (newestSource(path.join(root, 'server'), path.join(root, 'protocol')) > statSync(built).mtimeMs) {
    process.stderr.write('greenlight: note: dist/server is older than the sources in server/ and protocol/; run `npm run build:server` to use your changes\n');
  }
  ({ main } = await import(pathToFileURL(built).href));
} else {
  process.stderr.write(
    `greenlight: the hub and CLI are not built yet: run \`npm run build\` (or just \`npm run build:server\`) in ${root}.\n` +
      'For development, GREENLIGHT_FROM_SOURCE=1 runs the TypeScript sources instead.\n',
  );
  process.exit(2);
}
await main();
