import type { GreenlightRequest, User } from '../../protocol/index.js';
import { indentedAfterFirstLine, withBreaksSpelledOut } from '../../protocol/plain-text.js';
import { CONTROL_CHARACTER_CLASS, DIRECTION_CONTROL_CLASS, describeProgress, formatDuration, safeHttpUrl, whoDecided, whoVoted } from '../../protocol/index.js';

/** Where a command writes and what it reads from its environment; injectable so commands stay testable. */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export const processIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

// Carriage return too: on a terminal it moves back over what was printed. The hub refuses these in
// what it stores, except in diffs and logs and in anything stored before it did.
const UNSAFE_ON_A_TERMINAL = new RegExp(`[${CONTROL_CHARACTER_CLASS}\\r${DIRECTION_CONTROL_CLASS}]`, 'g');

/**
 * Text for a person's terminal: anything a requester typed (a reason, a resource, a comment) shows
 * as written, with the characters that could make a terminal show something else spelled out.
 */
export function terminalSafe(text: string): string {
  // A Windows line end is a line end: only a carriage return on its own can write over a line.
  return text.replace(/\r\n/g, '\n').replace(UNSAFE_ON_A_TERMINAL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Where a labelled value of `show` starts; its further lines start there too, past every label. */
const VALUE_COLUMN = ' '.repeat(15);

/** A value of several lines under a label (a reason, a summary): every line after the first indented past the labels. */
function labelled(text: string): string {
  return indentedAfterFirstLine(text.replace(/\t/g, '\\t'), VALUE_COLUMN);
}

export function out(io: Io, line: string): void {
  io.stdout.write(`${terminalSafe(line)}\n`);
}

/** Progress and human notes go to stderr so stdout stays machine-readable. */
export function note(io: Io, line: string): void {
  io.stderr.write(`${terminalSafe(line)}\n`);
}

/**
 * JSON.stringify escapes only the C0 controls. The C1 ones (U+009B acts as "ESC [" on some terminals),
 * DEL and direction controls can stand only inside strings, where the \uXXXX that terminalSafe
 * writes means the same: the output is the same JSON, safe on a terminal.
 */
export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${terminalSafe(JSON.stringify(value, null, 2))}\n`);
}

export const isTerminal = (stream: NodeJS.WritableStream): boolean => (stream as { isTTY?: boolean }).isTTY === true;

function waitingOn(request: GreenlightRequest): string {
  if (request.quorum) return `needs ${describeProgress(request.quorum)}`;
  const who = [...request.eligibleGroups, ...request.eligibleUsers];
  const needed = request.rule.minApprovals - request.approvals;
  return `needs ${needed} more approval${needed === 1 ? '' : 's'} from ${who.join(', ') || 'nobody yet'}`;
}

/** One line saying where a request stands, for progress messages. */
export function statusLine(request: GreenlightRequest, now: Date = new Date()): string {
  const subject = `${request.action} on ${request.resource} in ${request.environment}`;
  switch (request.status) {
    case 'pending': {
      const expiry = request.expiresAt ? `, expires in ${formatDuration((Date.parse(request.expiresAt) - now.getTime()) / 1000)}` : '';
      return `${request.id} pending: ${subject} ${waitingOn(request)} (rule ${request.rule.name}${expiry})`;
    }
    case 'approved':
      return `${request.id} approved by ${whoDecided(request) ?? 'policy'}: ${subject}`;
    case 'denied': {
      const denial = request.decisions.find((decision) => decision.decision === 'deny');
      const comment = denial?.comment ? `: "${withBreaksSpelledOut(denial.comment)}"` : '';
      return `${request.id} denied by ${whoDecided(request) ?? (denial ? whoVoted(denial) : 'an approver')}${comment}`;
    }
    case 'expired':
      return `${request.id} expired: nobody decided in time`;
    case 'cancelled':
      return `${request.id} cancelled by ${request.decidedBy ?? request.requester}${request.cancelReason ? `: "${withBreaksSpelledOut(request.cancelReason)}"` : ''}`;
  }
}

/** The readable form of `greenlight show`. */
export function describeRequest(request: GreenlightRequest): string[] {
  const lines = [
    `${request.id}  ${request.status.toUpperCase()}`,
    `  action       ${request.action}`,
    `  resource     ${request.resource}`,
    `  environment  ${request.environment}`,
    `  requester    ${request.requester}`,
    `  risk         ${request.risk}`,
    `  reason       ${labelled(request.reason)}`,
    request.quorum
      ? `  rule         ${request.rule.name} (${describeProgress(request.quorum)})`
      : `  rule         ${request.rule.name} (${request.approvals}/${request.rule.minApprovals} approvals from ${[...request.eligibleGroups, ...request.eligibleUsers].join(', ') || '-'})`,
    `  created      ${request.createdAt}`,
  ];
  if (request.expiresAt) lines.push(`  expires      ${request.expiresAt}`);
  if (request.notBefore) lines.push(`  starts       ${request.notBefore}`);
  if (request.extends) lines.push(`  extends      grant ${request.extends}`);
  if (request.nextEscalationAt) lines.push(`  escalates    ${request.nextEscalationAt}`);
  if (request.claim) lines.push(`  claimed by   ${request.claim.by} until ${request.claim.until}`);
  if (request.context.summary) lines.push(`  summary      ${labelled(request.context.summary)}`);
  for (const link of request.context.links ?? []) lines.push(`  link         ${withBreaksSpelledOut(link.title)}: ${withBreaksSpelledOut(safeHttpUrl(link.url) ?? link.url)}`);
  for (const [key, value] of Object.entries(request.context.fields ?? {})) lines.push(`  field        ${withBreaksSpelledOut(key)}=${withBreaksSpelledOut(value)}`);
  for (const decision of request.decisions) {
    lines.push(`  decision     ${whoVoted(decision)} ${decision.decision === 'approve' ? 'approved' : 'denied'} at ${decision.at}${decision.comment ? `: ${withBreaksSpelledOut(decision.comment)}` : ''}`);
  }
  if (request.grant) {
    const from = request.grant.notBefore && request.grant.notBefore > request.grant.issuedAt ? ` from ${request.grant.notBefore}` : '';
    lines.push(`  grant        ${request.grant.jti} ${request.grant.status}${from} until ${request.grant.expiresAt}`);
  }
  for (const entry of request.timeline) lines.push(`  timeline     ${entry.at} ${entry.type} by ${entry.actor}${entry.detail ? `: ${withBreaksSpelledOut(entry.detail)}` : ''}`);
  if (request.context.diff) lines.push('', 'diff:', ...excerpt(request.context.diff));
  if (request.context.logs) lines.push('', 'logs:', ...excerpt(request.context.logs));
  return lines;
}

const EXCERPT_LINES = 200;

/** Long diffs and logs are cut so a terminal stays usable; --json has the full text. */
function excerpt(text: string): string[] {
  // CRLF from a Windows runner is a line end like LF; a lone CR stays, to be spelled out.
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  if (lines.length <= EXCERPT_LINES) return lines.map((line) => `  ${line}`);
  return [...lines.slice(0, EXCERPT_LINES).map((line) => `  ${line}`), `  ... ${lines.length - EXCERPT_LINES} more lines; use --json for all of it`];
}

export function describeUser(user: User): string {
  const email = user.email ? `  email: ${user.email}` : '';
  const slack = user.slackUserId ? `  slack: ${user.slackUserId}` : '';
  const seen = user.lastSeenAt ? `  last seen: ${user.lastSeenAt}` : '';
  const state = user.disabled ? '  (disabled)' : '';
  return `${user.name}  roles: ${user.roles.join(',')}  groups: ${user.groups.join(',') || '-'}${email}${slack}${seen}${state}`;
}
