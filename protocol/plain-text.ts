/** Any line break a person may type: CRLF, CR, LF and the Unicode line and paragraph separators. */
const LINE_BREAK = /\r\n|[\n\r\u2028\u2029]/g;

/**
 * Text of several lines with every line after the first indented, so that in plain-text output it
 * reads as one field's value and none of its lines can pass for a line of the sender's own.
 */
export const indentedAfterFirstLine = (text: string, indent: string): string => text.replace(LINE_BREAK, `\n${indent}`);

/** Text for one line of plain-text output: its line breaks and tabs spelled out as \n and \t. */
export const withBreaksSpelledOut = (text: string): string => text.replace(LINE_BREAK, '\\n').replace(/\t/g, '\\t');
