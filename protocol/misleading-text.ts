import { firstInText } from './storable-text.js';

/**
 * Text an approver reads should read as what it is. Two kinds of character break that:
 * - the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
 *   reorder the text after them, so "prod" can be sent and another word be read;
 * - control characters other than tab and line breaks (C0, DEL, C1), which a terminal obeys
 *   (an escape sequence can rewrite lines already printed) and a page shows as nothing.
 */
export const DIRECTION_CONTROL_CLASS = '\\u202a-\\u202e\\u2066-\\u2069';
export const CONTROL_CHARACTER_CLASS = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f';
const MISLEADING = new RegExp(`[${DIRECTION_CONTROL_CLASS}${CONTROL_CHARACTER_CLASS}]`, 'u');
const DIRECTION_CONTROL = new RegExp(`[${DIRECTION_CONTROL_CLASS}]`, 'u');
const DIRECTION_CONTROLS = new RegExp(`[${DIRECTION_CONTROL_CLASS}]`, 'gu');

/**
 * Fields kept byte for byte: a diff or a log under review may hold these characters (coloured CI
 * output, source code with a direction override in it), and refusing it would stop the deploy that
 * sent it. They are shown with the direction controls spelled out instead (`revealDirectionControls`).
 */
const VERBATIM_CONTEXT_FIELDS = new Set(['diff', 'logs']);
const isVerbatim = (path: readonly (string | number)[]): boolean => path.length >= 2 && path[path.length - 2] === 'context' && VERBATIM_CONTEXT_FIELDS.has(String(path[path.length - 1]));

export interface MisleadingText {
  path: (string | number)[];
  /** `U+202E` */
  character: string;
  kind: 'direction' | 'control';
}

/** `U+202E` */
export const codePointName = (char: string): string => `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

function misleadingIn(text: string, path: readonly (string | number)[]): MisleadingText | null {
  const found = MISLEADING.exec(text);
  if (!found) return null;
  return { path: [...path], character: codePointName(found[0]), kind: DIRECTION_CONTROL.test(found[0]) ? 'direction' : 'control' };
}

/** The first string (or object key) in `value` holding a character that would make it read as something else, or null. */
export function findMisleadingText(value: unknown): MisleadingText | null {
  return firstInText(value, (text, path) => (isVerbatim(path) ? null : misleadingIn(text, path)));
}

/** What to tell the sender, after the field's path. */
export function describeMisleadingText(found: MisleadingText): string {
  return found.kind === 'direction'
    ? `contains ${found.character}, which changes the direction of the text after it, so it would read as something other than what was sent; remove it`
    : `contains the control character ${found.character}, which a screen shows as nothing or a terminal obeys; remove it`;
}

/** `⟦U+202E⟧` in place of each direction control, so a diff or a log reads in the order it runs. */
export function revealDirectionControls(text: string): string {
  return text.replace(DIRECTION_CONTROLS, (char) => `⟦${codePointName(char)}⟧`);
}

export const hasDirectionControls = (text: string): boolean => DIRECTION_CONTROL.test(text);
