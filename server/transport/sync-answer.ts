import type { GreenlightRequest, SyncResult } from '../../protocol/index.js';
import type { TurnTaker } from '../domain/turns.js';
import { EncodedAnswer } from './encoded-acks.js';

/** Requests encoded per turn: a few hundred take well under a millisecond. */
const REQUESTS_PER_TURN = 250;

/**
 * `parts.join(separator)` without copying: V8 links strings joined with `+` (or a template) instead
 * of copying them, so the answer is flattened only once, by ws as it writes the frame, not once more
 * here in one go.
 */
function linked(parts: string[], separator: string): string {
  return parts.reduce((text, part, index) => (index === 0 ? part : text + separator + part), '');
}

function isRequestList(name: string, value: unknown): value is GreenlightRequest[] {
  return (name === 'inbox' || name === 'mine') && Array.isArray(value);
}

/**
 * A sync's acknowledgement, `{ data: result }`, as the JSON text `JSON.stringify` would make of it:
 * the inbox and the viewer's own requests are encoded a few hundred per turn (each by `encode`, which
 * may hand back a text made before), so answering thousands of requests never holds the event loop
 * for the whole answer at once.
 */
export async function encodeSyncAnswer(result: SyncResult, turn: TurnTaker, encode: (request: GreenlightRequest) => string): Promise<EncodedAnswer> {
  const members: string[] = [];
  for (const [name, value] of Object.entries(result)) {
    if (value === undefined) continue;
    if (!isRequestList(name, value)) {
      members.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
      continue;
    }
    const pieces: string[] = [];
    for (let start = 0; start < value.length; start += REQUESTS_PER_TURN) {
      await turn.next();
      pieces.push(value.slice(start, start + REQUESTS_PER_TURN).map(encode).join(','));
    }
    members.push(`${JSON.stringify(name)}:[${linked(pieces, ',')}]`);
  }
  return new EncodedAnswer(`{"data":{${linked(members, ',')}}}`);
}
