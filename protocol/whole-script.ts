import { rectifyConfusion } from 'unicode-confusables';

const LATIN = /\p{Script=Latin}/u;
const ASCII_LETTERS = /^[A-Za-z]+$/;

/**
 * What a word of another script reads as, when every one of its letters is drawn like a Latin one
 * (Cyrillic `рау` as `pay`, `НОТ` as `HOT`, Greek `ΑΡΙ` as `APl`), or null. Its letters are mapped
 * to what Unicode's confusables (UTS #39) says each is drawn like, in the case it is written in; a
 * word holding Latin letters itself is judged by the mixed-script check instead.
 */
export function readsAsLatin(word: string): string | null {
  if (!/[^\p{ASCII}]/u.test(word) || LATIN.test(word)) return null;
  const skeleton = rectifyConfusion(word);
  return ASCII_LETTERS.test(skeleton) ? skeleton : null;
}
