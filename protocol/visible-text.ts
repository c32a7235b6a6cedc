import { z } from 'zod';

/**
 * Characters that draw nothing, or nothing a reader can tell from a space: every kind of space and
 * line separator, format characters (zero-width space, soft hyphen, direction marks), Unicode's
 * default-ignorable code points (joiners, variation selectors, the Hangul and Khmer fillers, tags,
 * and those not yet assigned), and the blank braille pattern, which fonts draw empty.
 * `.trim()` leaves most of these in place.
 */
const BLANK_CLASS = '\\p{Zs}\\p{Zl}\\p{Zp}\\p{Cf}\\p{Default_Ignorable_Code_Point}\\u2800';
const BLANKS = new RegExp(`[${BLANK_CLASS}\\p{Cc}]`, 'gu');
// Every blank but the ordinary space, which separates the words a reader counts.
const BLANKS_BUT_SPACE = new RegExp(`(?! )[${BLANK_CLASS}\\p{Cc}]`, 'gu');
// Controls are left to findMisleadingText, which names them.
const HAS_BLANK = new RegExp(`[${BLANK_CLASS}]`, 'u');

/** Whether a reader sees anything at all in `text`. */
export const showsSomething = (text: string): boolean => text.replace(BLANKS, '').length > 0;

/** How many characters of `text` a reader sees, the spaces between its words included. */
export const visibleLength = (text: string): number => [...text.replace(BLANKS_BUT_SPACE, '').trim()].length;

/** Whether `text` holds a character that draws nothing; for names, which must look like what they are. */
export const hasInvisible = (text: string): boolean => HAS_BLANK.test(text);

/**
 * Free text someone must fill in (a reason, an incident, a comment for the record): trimmed, and
 * refused when nothing in it is visible, so a reason of zero-width spaces does not pass for one.
 */
export const requiredText = (max: number, hint: string) => z.string().trim().max(max).refine(showsSomething, hint);
