import { ens_split } from '@adraffy/ens-normalize/xnf';

const VERDICT = /^whole-script confusable: (.+)\/(.+)$/;

/**
 * The scripts a word is written in and could be read as, when every one of its letters is drawn
 * like a letter of that other script (Cyrillic `рау` for Latin `pay`, Greek `ορ` for `op`), as
 * UTS #39's whole-script confusables have it; null otherwise. The data is ENSIP-15's, which names
 * use to the same end. An ASCII word is what the others would pass for, so it is never one.
 */
export function wholeScriptLookalike(word: string): { script: string; readsAs: string } | null {
  if (!/[^\p{ASCII}]/u.test(word)) return null;
  const [label] = ens_split(word);
  const verdict = label?.error instanceof Error ? VERDICT.exec(label.error.message) : null;
  if (!verdict) return null;
  return { script: plainName(verdict[1] ?? ''), readsAs: plainName(verdict[2] ?? '') };
}

/** ENSIP-15 marks scripts it restricts as `Restricted[Lisu]`: a reader wants the script's name. */
const plainName = (group: string): string => /^Restricted\[(.+)\]$/.exec(group)?.[1] ?? group;
