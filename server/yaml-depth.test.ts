import { describe, expect, it } from 'vitest';
import { parsePolicy, PolicyError } from './domain/policy.js';
import { YAML_DEPTH_LIMIT, yamlNestingBeyond } from './yaml-depth.js';

const POLICY = `rules:
  - name: prod
    match: { environment: production }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
`;

describe('how deep a YAML text nests, read without recursion', () => {
  it('counts every map and list, block or flow, and names the line of the first one past the limit', () => {
    // rules (map) > list > rule (map) > escalation (list) > step (flow map) > notify (flow list): six.
    expect(yamlNestingBeyond(POLICY, 6)).toBeNull();
    expect(yamlNestingBeyond(POLICY, 5)).toEqual({ line: 6 });
    expect(yamlNestingBeyond('a: 1\n---\nb:\n  c:\n    - [[x]]\n', 4)).toEqual({ line: 5 });
    expect(yamlNestingBeyond('', 1)).toBeNull();
    expect(yamlNestingBeyond('just text', 0)).toBeNull();
  });

  it.each([
    ['unclosed flow lists', '['.repeat(200_000), 1],
    ['compact block lists', '- '.repeat(100_000), 1],
    ['flow maps', '{a: '.repeat(50_000), 1],
    // Line n opens the nth map; the 33rd is one too many.
    ['indentation', Array.from({ length: 2_000 }, (_, depth) => `${' '.repeat(depth)}k:`).join('\n'), YAML_DEPTH_LIMIT + 1],
  ])('answers for %s nested far past what the YAML composer survives', (_kind, text, line) => {
    expect(yamlNestingBeyond(text)).toEqual({ line });
  });
});

describe('a policy nested deeper than any policy needs', () => {
  it.each([
    ['[', '['.repeat(2_000)],
    ['- ', '- '.repeat(5_000)],
    ['{a: ', `rules:\n  - name: prod\n    match: ${'{a: '.repeat(3_000)}`],
  ])('(%j repeated) is refused with a PolicyError naming the line, before the YAML parser can run out of stack', (_unit, text) => {
    let refused: unknown;
    try {
      parsePolicy(text, 'deep.yaml');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(PolicyError);
    expect((refused as Error).message).toMatch(/^deep\.yaml: line [13]: lists and maps nest more than 32 deep; a policy needs six levels at most$/);
  });

  it('leaves a real policy as it was', () => {
    expect(parsePolicy(POLICY, 'policy.yaml').rules[0]?.escalation[0]).toMatchObject({ notify: ['leads'] });
  });
});
