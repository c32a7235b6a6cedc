import { isSlackTarget, type FrozenRule } from '../../../protocol/index.js';

/** The destination of a row that rewrites every Slack message of a request with its current state. */
export const SLACK_REFRESH_TARGET = 'slack:refresh';
export const SLACK_DM_TARGET = 'slack:dm';

/** Does this rule post to Slack anywhere (its notify list or an escalation step)? */
export function ruleNamesSlack(rule: FrozenRule): boolean {
  const targets = [...(rule.notify ?? []), ...rule.escalation.flatMap((step) => step.channels ?? [])];
  return targets.some(isSlackTarget);
}

/** `slack:#ops` → `#ops`, what chat.postMessage takes as a channel. */
export const slackChannelOf = (target: string): string | null => (/^slack:(#[a-z0-9][a-z0-9._-]{0,79})$/.exec(target)?.[1] ?? null);
