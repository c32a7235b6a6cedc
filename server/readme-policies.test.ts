import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from './domain/policy.js';

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../README.md');

/** The fenced yaml blocks of the README's "Who may decide" section. */
function policyBlocks(): string[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf('## Who may decide');
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

describe("the README's policies for who may decide", () => {
  it('load as pasted: per-group quorum and break-glass', () => {
    const [quorum, breakGlass] = policyBlocks();
    expect(parsePolicy(quorum ?? '', 'README quorum').rules[0]?.require).toEqual([
      { group: 'sre', count: 1 },
      { group: 'security', count: 1 },
    ]);
    expect(parsePolicy(breakGlass ?? '', 'README break-glass').rules[0]?.breakGlass).toEqual({ groups: ['oncall'], maxTtl: 3600, cooldown: 14_400, reviewers: ['security'] });
  });
});
