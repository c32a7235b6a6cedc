import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCircles, sourceFiles } from './import-graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const here = (folder: string) => path.join(ROOT, folder);
const readable = (circle: string[]) => circle.map((file) => path.relative(ROOT, file)).join(' → ');

describe('the import graph', () => {
  it.each(['server', 'protocol', 'electron', 'renderer/src'])('has no circle in %s/', (folder) => {
    const files = sourceFiles(here(folder));
    expect(files.length).toBeGreaterThan(5);
    expect(importCircles(files).map(readable)).toEqual([]);
  });

  it('finds a circle, naming each file on it in order, type-only imports included', () => {
    const circles = importCircles(sourceFiles(here('integration/fixtures/import-circle')));
    expect(circles.map(readable)).toEqual([
      'integration/fixtures/import-circle/first.ts → integration/fixtures/import-circle/second.ts → integration/fixtures/import-circle/third.ts → integration/fixtures/import-circle/first.ts',
    ]);
  });

  it('does not mistake two paths to the same file for a circle', () => {
    expect(importCircles(sourceFiles(here('integration/fixtures/import-tree')))).toEqual([]);
  });
});
