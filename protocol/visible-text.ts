import { z } from 'zod';

/**
 * Characters that draw nothing, or nothing a reader can tell from a space: format characters
 * (zero-width space, joiners, soft hyphen, direction marks), every kind of space and control, the
 * letters and symbols fonts draw blank (the Hangul fillers, the blank braille pattern), and the
 * variation selectors and combining grapheme joiner, which only modify what comes before them.
 * `.trim()` leaves most of these in place.
 */
const BLANK_CLASS = '\\p{Cf}\\p{Zs}\\u115F\\u1160\\u3164\\uFFA0\\u2800\\u034F\\u180B-\\u180F\\uFE00-\\uFE0F\\u{E0100}-\\u{E01EF}';
// The class lists combining characters on purpose: each is matched alone, not as part of what precedes it.
// eslint-disable-next-line no-misleading-character-class
const INVISIBLE = new RegExp(`[${BLANK_CLASS}\\p{Cc}]`, 'gu');
// Controls are left to findMisleadingText, which names them.
// eslint-disable-next-line no-misleading-character-class
const HAS_BLANK = new RegExp(`[${BLANK_CLASS}]`, 'u');

/** How many characters of `text` a reader sees. */
export const visibleLength = (text: string): number => [...text.replace(INVISIBLE, '')].length;

/** Whether `text` holds a character that draws nothing; for names, which must look like what they are. */
export const hasInvisible = (text: string): boolean => HAS_BLANK.test(text);

/**
 * Free text someone must fill in (a reason, an incident, a comment for the record): trimmed, and
 * refused when nothing in it is visible, so a reason of zero-width spaces does not pass for one.
 */
export const requiredText = (max: number, hint: string) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((text) => visibleLength(text) > 0, hint);
