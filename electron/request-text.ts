import type { GreenlightRequest } from '../protocol/request.js';
import { describeDeadline, nextDeadline } from '../protocol/urgency.js';

/** "deploy payments-api → production" */
export function requestTitle(request: Pick<GreenlightRequest, 'action' | 'resource' | 'environment'>): string {
  return `${request.action} ${request.resource} → ${request.environment}`;
}

/** "in 4 min", "in 2 h", "now" */
export function formatIn(ms: number): string {
  if (ms <= 30_000) return 'now';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `in ${Math.max(1, minutes)} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.round(hours / 24)} days`;
}

/** "alice: hotfix for INC-4412 · risk high · escalates in 4 min" */
export function requestBody(request: GreenlightRequest, now: Date): string {
  const parts = [`${request.requester}: ${oneLine(request.reason, 120)}`, `risk ${request.risk}`];
  const deadline = nextDeadline(request);
  if (deadline) parts.push(describeDeadline(deadline, formatIn(Date.parse(deadline.at) - now.getTime())));
  return parts.join(' · ');
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
