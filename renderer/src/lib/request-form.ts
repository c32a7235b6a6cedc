import { parseDuration } from '../../../protocol/duration.js';
import type { PolicyOffer } from '../../../protocol/policy.js';
import { describeMisleadingText, findMisleadingText } from '../../../protocol/misleading-text.js';
import { newRequestSchema, type NewRequest, type Risk } from '../../../protocol/request.js';
import { LIMITS } from '../../../protocol/limits.js';
import type { WireError } from '../../../protocol/errors.js';
import { fromLocalInput } from './schedule.js';
import { localiseTimes } from './time.js';

export interface RequestFormValues {
  action: string;
  environment: string;
  resource: string;
  risk: Risk;
  reason: string;
  ttl: string;
  /** Empty: access starts on approval; else a `datetime-local` value, the requester's local time. */
  start: string;
  summary: string;
  diff: string;
  logs: string;
  /** One link a line: `title https://…` or just the URL. */
  links: string;
}

export type FormField = keyof RequestFormValues;
export type FormErrors = Partial<Record<FormField | 'form', string>>;

export const emptyForm: RequestFormValues = {
  action: '',
  environment: '',
  resource: '',
  risk: 'medium',
  reason: '',
  ttl: '',
  start: '',
  summary: '',
  diff: '',
  logs: '',
  links: '',
};

const hostOf = (url: string): string => {
  try {
    return new URL(url).host || url.slice(0, LIMITS.linkTitle);
  } catch {
    return url.slice(0, LIMITS.linkTitle);
  }
};

export function parseLinks(text: string): { title: string; url: string }[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.lastIndexOf(' ');
      // A bare URL is its own title, unless it is longer than a title may be: then its host names it.
      if (at === -1) return { title: line.length <= LIMITS.linkTitle ? line : hostOf(line), url: line };
      return { title: line.slice(0, at).trim(), url: line.slice(at + 1) };
    });
}

/** Which form field a schema issue belongs to. */
function fieldOf(path: PropertyKey[]): FormField | 'form' {
  const [head, sub] = path;
  if (head === 'context' && typeof sub === 'string' && ['summary', 'diff', 'logs', 'links'].includes(sub)) return sub as FormField;
  if (head === 'requestedTtlSeconds') return 'ttl';
  if (head === 'notBefore') return 'start';
  if (typeof head === 'string' && head in emptyForm) return head as FormField;
  return 'form';
}

/** Builds the request from the form, validated with the contract's schema; errors are per field. */
export function buildNewRequest(values: RequestFormValues, now: Date = new Date()): { input: NewRequest | null; errors: FormErrors } {
  const errors: FormErrors = {};
  let notBefore: string | undefined;
  if (values.start.trim()) {
    const start = fromLocalInput(values.start.trim());
    if (!start) errors.start = 'choose a date and time, or leave it empty to start on approval';
    else if (start.getTime() <= now.getTime()) errors.start = 'must be in the future';
    else notBefore = start.toISOString();
  }
  let requestedTtlSeconds: number | undefined;
  if (values.ttl.trim()) {
    const seconds = parseDuration(values.ttl);
    if (seconds === null) errors.ttl = 'use a duration such as 30m, 1h or 2d';
    else requestedTtlSeconds = seconds;
  }
  const links = parseLinks(values.links);
  const context: NewRequest['context'] = {
    ...(values.summary.trim() ? { summary: values.summary.trim() } : {}),
    ...(values.diff.trim() ? { diff: values.diff } : {}),
    ...(values.logs.trim() ? { logs: values.logs } : {}),
    ...(links.length ? { links } : {}),
  };
  const candidate = {
    action: values.action.trim(),
    environment: values.environment.trim(),
    resource: values.resource.trim(),
    risk: values.risk,
    reason: values.reason,
    context,
    ...(requestedTtlSeconds !== undefined ? { requestedTtlSeconds } : {}),
    ...(notBefore !== undefined ? { notBefore } : {}),
  };
  const parsed = newRequestSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldOf(issue.path);
      errors[field] ??= field === 'links' ? `link ${Number(issue.path[2] ?? 0) + 1}: ${issue.message}` : issue.message;
    }
  }
  // What the hub would refuse after the schema, shown beside the field rather than after a round trip.
  const misleading = findMisleadingText(candidate);
  if (misleading) errors[fieldOf(misleading.path)] ??= describeMisleadingText(misleading);
  if (Object.keys(errors).length > 0) return { input: null, errors };
  return { input: candidate, errors };
}

/** "Invalid request: notBefore: must be …; reason: …": the hub's refusal of named fields. */
const HUB_INVALID = /^Invalid request: (.+)$/s;
/** Where the next field's part of such a message starts: "; " then a path and ": ". */
const NEXT_FIELD = /; (?=[\w.]+: )/;

/**
 * What the hub's refusal of a submission says, beside the field it is about (the Start field for a
 * start the rule's schedule or windows can't take), its times in the requester's local time as the
 * form is; anything else above the button.
 */
export function refusalErrors(wire: WireError): FormErrors {
  // Nothing answered (or the answer never came): it may have been made. A hub that answered
  // "unavailable" says itself what it did not store.
  if (wire.code === 'TIMEOUT' || (wire.code === 'UNAVAILABLE' && wire.noAnswer)) {
    return { form: 'The hub did not answer, so your request may or may not have been made. Submit again once connected: it will not be made twice.' };
  }
  if (wire.code === 'OUTSIDE_WINDOW') return { start: localiseTimes(wire.message) };
  const invalid = wire.code === 'INVALID_INPUT' ? HUB_INVALID.exec(wire.message) : null;
  if (!invalid) return { form: localiseTimes(wire.message) };
  const errors: FormErrors = {};
  const unplaced: string[] = [];
  for (const part of (invalid[1] ?? '').split(NEXT_FIELD)) {
    const at = part.indexOf(': ');
    const field = at > 0 ? fieldOf(part.slice(0, at).split('.')) : 'form';
    if (field === 'form') unplaced.push(part);
    else errors[field] ??= localiseTimes(part.slice(at + 2));
  }
  if (unplaced.length) errors.form = localiseTimes(`Invalid request: ${unplaced.join('; ')}`);
  return errors;
}

/** The actions the policy offers, and the environments offered for one action. */
export function offeredActions(offers: PolicyOffer[]): string[] {
  return [...new Set(offers.flatMap((offer) => offer.actions))].sort();
}

export function offeredEnvironments(offers: PolicyOffer[], action: string): string[] {
  const matching = offers.filter((offer) => offer.actions.length === 0 || offer.actions.includes(action));
  return [...new Set(matching.flatMap((offer) => offer.environments))].sort();
}

export function offeredResources(offers: PolicyOffer[], action: string): string[] {
  const matching = offers.filter((offer) => offer.actions.length === 0 || offer.actions.includes(action));
  return [...new Set(matching.flatMap((offer) => offer.resources))].sort();
}
