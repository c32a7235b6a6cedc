/**
 * Policy names for chat destinations, kept apart so the notify-target pattern adds them in one line:
 * `slack:#channel` posts in a Slack channel, `slack:dm` messages each eligible approver that has a
 * Slack user id, `teams:NAME` posts to a Teams webhook named in the hub configuration.
 */
export const SLACK_CHANNEL_TARGET = 'slack:#[a-z0-9][a-z0-9._-]{0,79}';
export const SLACK_DM_TARGET = 'slack:dm';
export const TEAMS_TARGET = 'teams:[A-Za-z0-9][A-Za-z0-9_-]{0,63}';
export const CHAT_TARGET_PATTERN = `${SLACK_CHANNEL_TARGET}|${SLACK_DM_TARGET}|${TEAMS_TARGET}`;

export const isSlackTarget = (target: string): boolean => target.startsWith('slack:');
export const isTeamsTarget = (target: string): boolean => target.startsWith('teams:');
