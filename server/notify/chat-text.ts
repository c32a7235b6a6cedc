import { revealDirectionControls, type GreenlightRequest } from '../../protocol/index.js';

/** What messages say about a request, shared by the Slack, Teams and email renderings. */

export const DIFF_EXCERPT_LINES = 30;

/** The first lines of a diff, with its direction controls spelled out, and how many lines were left out. */
export function diffExcerpt(diff: string, maxLines = DIFF_EXCERPT_LINES): { text: string; moreLines: number } {
  const lines = diff.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n');
  return { text: revealDirectionControls(lines.slice(0, maxLines).join('\n')), moreLines: Math.max(0, lines.length - maxLines) };
}

/** At most `max` characters, ending in … when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${[...text.slice(0, max - 1)].join('')}…`;
}

export const titleOf = (request: Pick<GreenlightRequest, 'action' | 'resource' | 'environment'>): string => `${request.action} ${request.resource} → ${request.environment}`;

/** Where the request opens in the web console. */
export const consoleLink = (publicUrl: string, requestId: string): string => `${publicUrl.replace(/\/+$/, '')}/?request=${encodeURIComponent(requestId)}`;

export const moreLinesNote = (count: number): string => `…${count} more line${count === 1 ? '' : 's'}`;

/** `HH:MM UTC`, the fallback where a client cannot show local time. */
export const utcClock = (iso: string): string => `${iso.slice(11, 16)} UTC`;

/** `YYYY-MM-DD HH:MM UTC`: a day and time read at a glance in an email, a page or a pager alert. */
export const utcMinute = (iso: string): string => `${iso.slice(0, 16).replace('T', ' ')} UTC`;
