import { LineCounter, Parser, type CST } from 'yaml';

/** Deeper than any policy or config file needs (theirs nest five or six levels), far short of what the YAML composer's recursion survives. */
export const YAML_DEPTH_LIMIT = 32;

/**
 * Where a YAML text first nests collections (maps, lists, flow `[` `{`) more than `limit` deep, as
 * a 1-based line, or null. The `yaml` package composes documents recursively: a text nested a thousand
 * deep runs it out of stack, and if that happens while V8 compiles a regular expression the process
 * aborts instead of throwing. Its tokenizer keeps its own stack, so this reads the token tree with an
 * explicit stack too and never recurses.
 */
export function yamlNestingBeyond(text: string, limit: number = YAML_DEPTH_LIMIT): { line: number } | null {
  const lines = new LineCounter();
  const pending: { token: CST.Token; depth: number }[] = [];
  // Pushed last to first, so the walk meets them in the order they are written and names the first line.
  for (const token of [...new Parser(lines.addNewLine).parse(text)].reverse()) pending.push({ token, depth: 0 });
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { token, depth } = next;
    if (token.type === 'document') {
      if (token.value) pending.push({ token: token.value, depth });
      continue;
    }
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth + 1 > limit) return { line: lines.linePos(token.offset).line };
    const items = token.items as CST.CollectionItem[];
    for (let index = items.length - 1; index >= 0; index--) {
      const { key, value } = items[index] ?? {};
      if (value) pending.push({ token: value, depth: depth + 1 });
      if (key) pending.push({ token: key, depth: depth + 1 });
    }
  }
  return null;
}

