import { formatTime, isInstant } from './time.js';

export interface AuditFilters {
  /** `datetime-local` values (local time, no zone). */
  from: string;
  to: string;
  actor: string;
  action: string;
  resource: string;
  outcome: string;
  q: string;
}

export const emptyFilters: AuditFilters = { from: '', to: '', actor: '', action: '', resource: '', outcome: '', q: '' };

/** The audit endpoint's query string for these filters; empty filters are left out. */
export function auditQuery(filters: AuditFilters, page: { limit: number; cursor?: string | null }): string {
  const params = new URLSearchParams();
  for (const key of ['from', 'to'] as const) {
    const value = filters[key].trim();
    if (!value) continue;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) continue;
    // "To 09:00" takes in 09:00:30, which the table shows as 09:00: the whole minute (or second) typed.
    const through = key === 'to' ? (value.length <= 16 ? 59_999 : 999) : 0;
    params.set(key, new Date(date.getTime() + through).toISOString());
  }
  for (const key of ['actor', 'action', 'resource', 'outcome', 'q'] as const) {
    const value = filters[key].trim();
    if (value) params.set(key, value);
  }
  params.set('limit', String(page.limit));
  if (page.cursor) params.set('cursor', page.cursor);
  return params.toString();
}

/** Nothing worth a line: no value, blank text, an empty list or an empty object ("skipped: " alone says nothing). */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

/** A readable one-line digest of an audit event's data, for the table: timestamps in local time (text people typed stays as typed), lists of names as names, empty values left out. */
export function describeData(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, value]) => !isEmpty(value))
    .slice(0, 4)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? (isInstant(value) ? formatTime(value) : value) : Array.isArray(value) && value.every((item) => typeof item === 'string') ? value.join(', ') : JSON.stringify(value)}`)
    .join(' · ');
}
