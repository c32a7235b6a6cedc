/**
 * Text of several lines with every line after the first indented, so that in a plain-text message it
 * reads as one field's value and none of its lines can pass for a line of the hub's own.
 */
export const indentedAfterFirstLine = (text: string, indent: string): string => text.replace(/\r\n|\r|\n|\u2028|\u2029/g, `\n${indent}`);
