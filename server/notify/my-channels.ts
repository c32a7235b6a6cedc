import type { ChannelReach, MyChannels, PolicyRule } from '../../protocol/index.js';
import type { Actor } from '../domain/actor.js';
import type { Context } from '../domain/context.js';
import { userStore } from '../store/users.js';

/** Does this rule ask this person, at once or when one of its steps escalates? Which steps? */
function askedBy(rule: PolicyRule, actor: Actor): { direct: boolean; steps: number[] } {
  const mine = (names: string[]) => names.includes(actor.name) || actor.groups.some((group) => names.includes(group));
  return { direct: mine(rule.approvers), steps: rule.escalation.flatMap((step, index) => (mine(step.notify) ? [index] : [])) };
}

/** The rules that would email this person: those naming email that ask them, or a step naming email that adds them. */
function emailingRules(rules: PolicyRule[], actor: Actor): string[] {
  return rules
    .filter((rule) => {
      if (rule.autoApprove) return false;
      const asked = askedBy(rule, actor);
      if (rule.notify.includes('email') && (asked.direct || asked.steps.length > 0)) return true;
      return asked.steps.some((index) => (rule.escalation[index]?.channels ?? []).includes('email'));
    })
    .map((rule) => rule.name);
}

function appReach(rules: PolicyRule[], actor: Actor): ChannelReach {
  const asking = rules.filter((rule) => !rule.autoApprove && (askedBy(rule, actor).direct || askedBy(rule, actor).steps.length > 0)).map((rule) => rule.name);
  const decides = actor.roles.some((role) => role !== 'requester');
  return {
    channel: 'app',
    reaches: true,
    detail: decides
      ? 'The desktop app notifies you, and the inbox here lists what waits on you, while either is open or the app runs in the tray.'
      : 'You ask rather than decide: the app tells you when your requests are decided.',
    address: null,
    rules: decides ? asking : [],
  };
}

function emailReach(ctx: Context, rules: PolicyRule[], actor: Actor): ChannelReach {
  const emailing = actor.roles.some((role) => role !== 'requester') ? emailingRules(rules, actor) : [];
  const configured = Boolean(ctx.outbox?.email);
  const detail = !configured
    ? 'This hub sends no email (an admin sets up notifiers.email in its configuration).'
    : !actor.email
      ? 'You have no email address here; an admin can add one in Users.'
      : emailing.length === 0
        ? 'No rule that asks you announces its requests by email.'
        : `Requests of ${emailing.length === 1 ? 'rule' : 'rules'} ${emailing.join(', ')} are emailed to you, with Approve and Deny links.`;
  return { channel: 'email', reaches: configured && Boolean(actor.email) && emailing.length > 0, detail, address: actor.email, rules: configured && actor.email ? emailing : [] };
}

function webhookReach(ctx: Context): ChannelReach {
  const count = ctx.outbox?.webhookNames.size ?? 0;
  return {
    channel: 'webhook',
    reaches: false,
    detail: count ? `Webhooks (${count} configured) go to other systems, such as chat bots and pagers, not to you in person.` : 'No webhooks are configured; they would go to other systems, not to you in person.',
    address: null,
    rules: [],
  };
}

/** The rules that would message this person directly in Slack (`slack:dm` on the rule, or on a step that adds them). */
function slackMessagingRules(rules: PolicyRule[], actor: Actor): string[] {
  return rules
    .filter((rule) => {
      if (rule.autoApprove) return false;
      const asked = askedBy(rule, actor);
      if (rule.notify.includes('slack:dm') && (asked.direct || asked.steps.length > 0)) return true;
      return asked.steps.some((index) => (rule.escalation[index]?.channels ?? []).includes('slack:dm'));
    })
    .map((rule) => rule.name);
}

/** Slack direct messages, where the hub has a Slack app: only to someone linked to their Slack member id. */
async function slackReach(ctx: Context, rules: PolicyRule[], actor: Actor): Promise<ChannelReach | null> {
  if (!ctx.outbox?.slack) return null;
  const slackUserId = (await userStore.byId(ctx.store.db, actor.id))?.slackUserId ?? null;
  const messaging = actor.roles.some((role) => role !== 'requester') ? slackMessagingRules(rules, actor) : [];
  const detail = !slackUserId
    ? 'Your Slack account is not linked here; an admin can link it (greenlight user set <you> --slack-user U…).'
    : messaging.length === 0
      ? 'No rule that asks you messages approvers in Slack (slack:dm); channel posts may still show you requests.'
      : `Requests of ${messaging.length === 1 ? 'rule' : 'rules'} ${messaging.join(', ')} come to you as Slack messages, with Approve and Deny buttons.`;
  return { channel: 'slack', reaches: Boolean(slackUserId) && messaging.length > 0, detail, address: slackUserId, rules: slackUserId ? messaging : [] };
}

/** Which channels bring the signed-in user the requests they may decide, one entry per channel. */
export async function myChannels(ctx: Context, actor: Actor): Promise<MyChannels> {
  const rules = ctx.policy.current().rules;
  const slack = await slackReach(ctx, rules, actor);
  return { channels: [appReach(rules, actor), emailReach(ctx, rules, actor), webhookReach(ctx), ...(slack ? [slack] : [])] };
}
