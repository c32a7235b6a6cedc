import { formatDuration } from '../../../protocol/duration.js';

/** "in 4m 10s" / "3s ago", from an ISO time and the current clock in ms. */
export function relativeTo(iso: string, now: number): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (seconds >= 0) return `in ${formatDuration(seconds)}`;
  return `${formatDuration(-seconds)} ago`;
}

/** A countdown that stops at zero: "4m 10s", or "now" once due. */
export function countdown(iso: string, now: number): string {
  const seconds = Math.ceil((Date.parse(iso) - now) / 1000);
  return seconds <= 0 ? 'now' : formatDuration(seconds);
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}


/** A UTC instant as the hub writes it: 2026-12-01T19:08:23.834Z. */
const ISO_INSTANT = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z`;
const INSTANTS = new RegExp(String.raw`\b${ISO_INSTANT}\b`, 'g');
const ONLY_AN_INSTANT = new RegExp(`^${ISO_INSTANT}$`);

export const isInstant = (text: string): boolean => ONLY_AN_INSTANT.test(text);

/** Text from the hub with UTC instants in it ("until 2026-12-01T19:08:23.834Z"), those instants in local time. */
export function localiseTimes(text: string): string {
  return text.replace(INSTANTS, (iso) => formatTime(iso));
}
