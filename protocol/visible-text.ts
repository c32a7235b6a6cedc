import { z } from 'zod';
import { readsAsLatin } from './whole-script.js';

/**
 * Characters that draw nothing, or nothing a reader can tell from a space: every kind of space and
 * line separator, format characters (zero-width space, soft hyphen, direction marks), Unicode's
 * default-ignorable code points (joiners, variation selectors, the Hangul and Khmer fillers, tags,
 * and those not yet assigned), and the blank braille pattern, which fonts draw empty.
 * `.trim()` leaves most of these in place.
 */
const BLANK_CLASS = '\\p{Zs}\\p{Zl}\\p{Zp}\\p{Cf}\\p{Default_Ignorable_Code_Point}\\u2800';
const BLANKS = new RegExp(`[${BLANK_CLASS}\\p{Cc}]`, 'gu');
// Whatever separates words, as a reader sees it: spaces of every width, tabs, line and paragraph breaks.
const WORD_BREAKS = /[\p{Zs}\p{Zl}\p{Zp}\t\n\r\v\f]/gu;
// Every blank but the ordinary space, once word breaks are spaces.
const BLANKS_BUT_SPACE = new RegExp(`(?! )[${BLANK_CLASS}\\p{Cc}]`, 'gu');
// Controls are left to findMisleadingText, which names them.
const HAS_BLANK = new RegExp(`[${BLANK_CLASS}]`, 'u');

/** Whether a reader sees anything at all in `text`. */
export const showsSomething = (text: string): boolean => text.replace(BLANKS, '').length > 0;

/** How many characters of `text` a reader sees, one space between each two words: padding counts for nothing. */
export const visibleLength = (text: string): number => [...text.replace(WORD_BREAKS, ' ').replace(BLANKS_BUT_SPACE, '').replace(/ {2,}/g, ' ').trim()].length;

const LINE_BREAK = /[\n\r\u2028\u2029]/u;
/**
 * Labels (a link's title, a field's name, an incident) are shown on one line: in a notification,
 * a chat message or a terminal a line break would start what reads as a line of its own.
 */
export const isOneLine = (text: string): boolean => !LINE_BREAK.test(text);
export const ONE_LINE_MESSAGE = 'must be one line: remove the line breaks';

/** Whether `text` holds a character that draws nothing; for names, which must look like what they are. */
export const hasInvisible = (text: string): boolean => HAS_BLANK.test(text);

/**
 * Free text someone must fill in (a reason, an incident, a comment for the record): trimmed, and
 * refused when nothing in it is visible, so a reason of zero-width spaces does not pass for one.
 */
export const requiredText = (max: number, hint: string) => z.string().trim().max(max).refine(showsSomething, hint);

/** Scripts with letters drawn like Latin ones (Cyrillic а, Greek ο, Armenian օ, Cherokee Ꭺ). */
const LOOKALIKE_SCRIPTS = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
] as const;

/**
 * Punctuation, symbols and digits beyond ASCII: NFKC leaves many that are drawn like the separators
 * names are made of (‐ – − for -, ∕ ⁄ for /, · for ., ։ for :), and digits such as the Arabic-Indic
 * zero ٠, drawn as a dot. Letters and marks of any script are judged by script instead (a letter
 * drawn like another of its own script, Latin ǀ for l, is beyond this check).
 */
const NON_ASCII_NON_LETTER = /[^\p{L}\p{M}\p{ASCII}]/u;

/**
 * Letters and marks that belong to no script of their own (Unicode's Common and Inherited): modifier
 * letters drawn like punctuation (ː for :, ʹ for '), and combining marks NFKC does not fold into a
 * letter (the long solidus overlay ̸ drawn over the one before it).
 */
const SCRIPTLESS_LETTER_OR_MARK = /(?![\p{ASCII}])(?=[\p{L}\p{M}])[\p{scx=Common}\p{scx=Inherited}]/u;

/**
 * What a word holding Latin letters may hold besides them, as UTS #39's highly restrictive profile
 * has it: the scripts written with Latin (Japanese, Chinese, Korean), and the accents Latin uses
 * (by Script_Extensions: Yoruba ẹ́ keeps its acute as a mark, there being no one character for it). Any other letter or mark among
 * Latin ones is the spoof the profile is for: Lisu ꓽ for :, Devanagari ः for :, NKo ߺ for _.
 */
const WRITTEN_WITH_LATIN = /[\p{scx=Latin}\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}\p{scx=Bopomofo}]/u;
const LATIN = /\p{Script=Latin}/u;
const LETTER_OR_MARK = /[\p{L}\p{M}]/gu;

const LONE_SURROGATE = /\p{Cs}/u;

const codePoint = (char: string): string => `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why a name would pass for another one, or null: a styled form of a character (fullwidth ｐ, bold
 * 𝐩, the ligature ﬁ), which NFKC folds into the plain one; punctuation, a symbol or a digit outside
 * ASCII (a hyphen ‐ that is not -, a division slash ∕), a modifier letter or loose combining mark (ː);
 * or, in one word, Latin letters beside those of another script than Chinese, Japanese or Korean, or
 * letters of two lookalike scripts (`pаyments` with a Cyrillic а), the mixes Unicode's security
 * guidelines (UTS #39) call out; or a word whose every letter is drawn like one of another script
 * (Cyrillic `рау` for `pay`, `НОТ` for `HOT`). Words each in one script, Cyrillic or Japanese say, otherwise pass.
 */
export function lookalikeProblem(text: string): string | null {
  // A name with an invisible character is refused for that already; quoting it would show it live.
  // Half a surrogate pair is no character at all: the check of what can be stored says so.
  if (hasInvisible(text) || LONE_SURROGATE.test(text)) return null;
  const plain = text.normalize('NFKC');
  if (plain !== text) return `must be written in plain characters: it reads as "${plain}" once styled and composed forms are folded (NFKC); send that instead`;
  const foreign = NON_ASCII_NON_LETTER.exec(text)?.[0];
  if (foreign) return `must use ASCII for punctuation, symbols and digits: ${codePoint(foreign)} is not, and such characters are drawn like - / . : or a letter, so the name would look like another one`;
  const scriptless = SCRIPTLESS_LETTER_OR_MARK.exec(text)?.[0];
  if (scriptless) return `must not use ${codePoint(scriptless)}: it is a modifier letter or a combining mark of no script, drawn like punctuation or over another character, so the name would look like another one`;
  // Word by word, as UTS #39 goes label by label: `платежи-api` is two words, each in one script.
  for (const word of text.split(/[^\p{L}\p{M}]+/u)) {
    const mixed = LOOKALIKE_SCRIPTS.filter(([, letters]) => letters.test(word)).map(([name]) => name);
    if (mixed.length > 1) return `must not mix ${mixed.join(' and ')} letters in one word ("${word}"): they are drawn alike (Cyrillic а and Latin a), so the name would look like another one`;
    const stranger = LATIN.test(word) ? word.match(LETTER_OR_MARK)?.find((char) => !WRITTEN_WITH_LATIN.test(char)) : undefined;
    if (stranger) return `must not mix Latin letters with ${codePoint(stranger)} in one word ("${word}"): only Chinese, Japanese and Korean are written with Latin in a name, and others are drawn like Latin letters or punctuation, so the name would look like another one`;
    const latin = readsAsLatin(word);
    if (latin) return `must not hold "${word}", a word whose every letter is drawn like a Latin one: it reads as "${latin}", so the name would look like another one`;
  }
  return null;
}
