import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The folder holding the project's package.json, found by walking up from this module: the same
 * answer whether the hub runs from its TypeScript sources (server/), from the build (dist/server/)
 * or from an image that copied both.
 */
export function projectRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

/** A file or folder of the project (`assets/icon.png`, `renderer/dist`), or null outside one (the standalone CLI). */
export function inProject(...segments: string[]): string | null {
  const root = projectRoot();
  return root ? path.join(root, ...segments) : null;
}

/** The built web console, when this install has one. */
export function builtConsoleDir(): string | null {
  const dir = inProject('renderer', 'dist');
  return dir && existsSync(path.join(dir, 'index.html')) ? dir : null;
}

// Replaced with the version by the build of the standalone CLI, which has no package.json beside it.
declare const __GREENLIGHT_VERSION__: string | undefined;

/** The version in package.json, or "unknown". */
export function projectVersion(): string {
  if (typeof __GREENLIGHT_VERSION__ === 'string') return __GREENLIGHT_VERSION__;
  const root = projectRoot();
  if (!root) return 'unknown';
  try {
    const parsed = z.object({ version: z.string() }).safeParse(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')));
    return parsed.success ? parsed.data.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
