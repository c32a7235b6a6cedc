import { z } from 'zod';
import { LIMITS, requestIdSchema } from '../../protocol/index.js';
import { ACTION_APPROVE, ACTION_APPROVE_FOR, ACTION_DENY, ACTION_DENY_FOR } from '../notify/slack/message.js';

/**
 * What a click on Approve or Deny asks: decide `requestId` so, for `named` when the clicker chose whom
 * on a stand-in choice (their own name: as themselves); absent on the request's own buttons, where the
 * hub works out whom the vote is for, or asks.
 */
export interface DecisionClick {
  requestId: string;
  decision: 'approve' | 'deny';
  named?: string;
}

/** A click read: one to decide, a decision button Greenlight did not make (its value no request id, or a choice naming another than its action id), or a button that decides nothing (Open in Greenlight). */
export type ParsedClick = { kind: 'decide'; click: DecisionClick } | { kind: 'not ours' } | { kind: 'ignored' };

export const onBehalfOfSchema = z.string().min(1).max(LIMITS.userName);
/** A choice button's value: the request, and whom the delegate decides for (checked against their delegations when clicked). */
const standInValueSchema = z.object({ requestId: requestIdSchema, onBehalfOf: onBehalfOfSchema });

/** The decision and the name a stand-in choice's action id carries (`greenlight_approve_for:<name>`); undefined for any other button. */
function choiceIn(actionId: string): { decision: DecisionClick['decision']; name: string } | undefined {
  for (const [prefix, decision] of [[ACTION_APPROVE_FOR, 'approve'], [ACTION_DENY_FOR, 'deny']] as const) {
    if (actionId.startsWith(`${prefix}:`)) return { decision, name: actionId.slice(prefix.length + 1) };
  }
  return undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads one clicked button (`action_id`, `value`) into what it asks, validating the request id it carries. */
export function parseClick(action: { action_id: string; value?: string | undefined }): ParsedClick {
  if (action.action_id === ACTION_APPROVE || action.action_id === ACTION_DENY) {
    // Greenlight values its own buttons with the request's id; one without is no request anyone could be told about.
    const requestId = requestIdSchema.safeParse(action.value);
    if (!requestId.success) return { kind: 'not ours' };
    return { kind: 'decide', click: { requestId: requestId.data, decision: action.action_id === ACTION_APPROVE ? 'approve' : 'deny' } };
  }
  const choice = choiceIn(action.action_id);
  if (!choice) return { kind: 'ignored' };
  const chosen = standInValueSchema.safeParse(parseJson(action.value ?? ''));
  // Greenlight names the same person in both (standInChoice); a button saying one and valued the
  // other was made elsewhere, and whom its clicker meant would be a guess.
  if (!chosen.success || chosen.data.onBehalfOf !== choice.name) return { kind: 'not ours' };
  return { kind: 'decide', click: { requestId: chosen.data.requestId, decision: choice.decision, named: chosen.data.onBehalfOf } };
}
