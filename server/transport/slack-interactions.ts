import { z } from 'zod';
import { GreenlightError, LIMITS, requestIdSchema, showsSomething } from '../../protocol/index.js';
import type { Context } from '../domain/context.js';
import { CHAT_DECISIONS_OFF, decideRequest } from '../domain/requests.js';
import { voteRefusal } from '../domain/vote-admission.js';
import { buildView, withoutSecrets, viewReader } from '../domain/request-view.js';
import { requestStore, type RequestRecord } from '../store/requests.js';
import type { Actor } from '../domain/actor.js';
import { activeDelegatorsOf, type Delegator } from '../domain/deciders.js';
import { capacitiesOn, choicesToName, unnamedVoteFor } from '../domain/capacities.js';
import type { SlackApp } from '../notify/slack/app.js';
import { DENY_MODAL, REASON_BLOCK, REASON_INPUT, denyModal, standInChoice, type SlackMessage } from '../notify/slack/message.js';
import { parseClick, onBehalfOfSchema, type DecisionClick } from './slack-click.js';
import { slackIdentity } from './slack-identity.js';

/** Slack's interactivity payloads this hub acts on; anything else is acknowledged and ignored. */
const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1).max(64) }),
  trigger_id: z.string().max(256).optional(),
  channel: z.object({ id: z.string().max(64) }).optional(),
  container: z.object({ channel_id: z.string().max(64).optional() }).optional(),
  actions: z.array(z.object({ action_id: z.string().max(255), value: z.string().max(2000).optional() })).min(1),
});
const viewSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id: z.string().min(1).max(64) }),
  view: z.object({
    callback_id: z.string().max(255),
    private_metadata: z.string().max(3000),
    state: z.object({ values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullable().optional() }).loose())) }),
  }),
});
const denyMetadataSchema = z.object({ requestId: requestIdSchema, channel: z.string().max(64).nullable(), onBehalfOf: onBehalfOfSchema.optional() });

/** What the endpoint answers Slack: nothing, or a modal's field errors. */
export type SlackAnswer = { kind: 'ack' } | { kind: 'errors'; errors: Record<string, string> };
const ACK: SlackAnswer = { kind: 'ack' };

/** Slack waits 3 s for the answer; a decision still running by then is finished after it (it commits or not, either way durably). */
const ANSWER_WITHIN_MS = 2_500;

async function answerInTime(ctx: Context, work: Promise<void>): Promise<void> {
  const guarded = work.catch((error: unknown) => ctx.log.error({ err: error }, 'Slack interaction failed after it was acknowledged'));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([guarded, new Promise<void>((resolve) => (timer = setTimeout(resolve, ANSWER_WITHIN_MS)))]);
  clearTimeout(timer);
}

async function tell(ctx: Context, app: SlackApp, channel: string | undefined, slackUserId: string, said: string | SlackMessage): Promise<void> {
  if (!channel) return;
  try {
    await app.client.chat.postEphemeral({ channel, user: slackUserId, ...(typeof said === 'string' ? { text: said } : said) });
  } catch (error) {
    ctx.log.warn({ err: error, slackUser: slackUserId }, 'cannot send a Slack user an explanation');
  }
}

const explain = (error: unknown): string => (error instanceof GreenlightError ? error.message : 'Greenlight could not record this; try again, or decide in the app.');

/**
 * Whom the clicker's vote on `row` is for, by the rule the app offers choices by (capacitiesOn):
 * `choices` when it could count for more than one person (themselves included), to ask them; else
 * `named`, the one it counts for when an unnamed vote would land elsewhere (undefined: unnamed is right).
 */
async function whomFor(ctx: Context, row: RequestRecord | undefined, actor: Actor, delegators: Delegator[]): Promise<{ choices: string[]; named?: string }> {
  if (!row || row.status !== 'pending') return { choices: [] };
  const capacities = capacitiesOn(await buildView(viewReader(ctx), row, null), actor, delegators);
  const toName = choicesToName(capacities, unnamedVoteFor(row, actor, delegators));
  if (toName.length > 1) return { choices: toName };
  return toName[0] === undefined ? { choices: [] } : { choices: [], named: toName[0] };
}

/**
 * What someone deciding from chat on a request whose rule takes no decision there is told. The rule is
 * named only to someone the vote would otherwise be let in for: anyone else is told what they would
 * be on any request, learning nothing of how this one's rule is set.
 */
async function chatOffRefusal(ctx: Context, actor: Actor, requestId: string, delegators: Delegator[], named: string | undefined): Promise<string> {
  const refused = await voteRefusal(ctx, actor, requestId, delegators, named);
  return refused ? refused.message : CHAT_DECISIONS_OFF;
}

/** Opens the deny form for `requestId` (for `onBehalfOf`, when the delegate chose whom). */
async function openDenyForm(ctx: Context, app: SlackApp, row: RequestRecord, triggerId: string | undefined, channel: string | undefined, slackUserId: string, onBehalfOf?: string): Promise<void> {
  const view = withoutSecrets(await buildView(viewReader(ctx), row, null));
  // The trigger id is valid for 3 s: the modal opens before Slack is answered.
  try {
    await app.client.views.open({ trigger_id: triggerId ?? '', view: denyModal(view, JSON.stringify({ requestId: row.id, channel: channel ?? null, ...(onBehalfOf ? { onBehalfOf } : {}) })) });
  } catch (error) {
    ctx.log.warn({ err: error, request: row.id }, 'cannot open the Slack deny form');
    await tell(ctx, app, channel, slackUserId, 'Slack could not open the form for a reason; deny in Greenlight instead ("Open in Greenlight").');
  }
}

/** Opens a click: a decision button Greenlight did not make is refused before anything is read. */
async function onBlockAction(ctx: Context, app: SlackApp, payload: z.infer<typeof blockActionsSchema>): Promise<SlackAnswer> {
  const action = payload.actions[0];
  if (!action) return ACK;
  const parsed = parseClick(action);
  if (parsed.kind === 'ignored') return ACK;
  if (parsed.kind === 'not ours') {
    await tell(ctx, app, channelOf(payload), payload.user.id, 'This button is not one Greenlight made; decide in Greenlight instead ("Open in Greenlight").');
    return ACK;
  }
  return onDecisionClick(ctx, app, payload, parsed.click);
}

const channelOf = (payload: z.infer<typeof blockActionsSchema>): string | undefined => payload.channel?.id ?? payload.container?.channel_id;

/**
 * Approve or Deny, from the request's own buttons or a stand-in choice: approves at once, or opens the
 * deny form; asks whom first when the vote could count for more than one person and none was chosen.
 */
async function onDecisionClick(ctx: Context, app: SlackApp, payload: z.infer<typeof blockActionsSchema>, click: DecisionClick): Promise<SlackAnswer> {
  const channel = channelOf(payload);
  const slackUserId = payload.user.id;
  const say = (said: string | SlackMessage) => tell(ctx, app, channel, slackUserId, said);
  const identity = await slackIdentity(ctx, app, slackUserId);
  if (identity.kind === 'refused') {
    await say(identity.explanation);
    return ACK;
  }
  const actor = identity.actor;
  const row = await requestStore.byId(ctx.store.db, click.requestId);
  const chatApproveOff = row?.rule.chatApprove === false;
  // Read once, for whom an unnamed vote is for and, on Deny or where the rule takes no decision from
  // chat, for what decideRequest would refuse (a delegate is told a decided request is decided, as on
  // Approve); decideRequest reads them again as it decides, never trusting these.
  const delegatorsNeeded = chatApproveOff || click.decision === 'deny' || (row?.status === 'pending' && click.named === undefined);
  const delegators = delegatorsNeeded ? await activeDelegatorsOf(ctx.store.db, actor, ctx.clock.now()) : [];
  if (chatApproveOff) {
    await say(await chatOffRefusal(ctx, actor, click.requestId, delegators, click.named));
    return ACK;
  }
  let named = click.named;
  if (named === undefined) {
    // Unnamed, the vote counts as theirs or for the earliest delegation, which may not be whom they
    // mean: someone who could vote in more than one capacity chooses, as in the app and by email.
    const whom = await whomFor(ctx, row, actor, delegators);
    if (row && whom.choices.length > 1) {
      await say(standInChoice(row, click.decision, whom.choices, actor.name));
      return ACK;
    }
    named = whom.named;
  }
  if (click.decision === 'deny') {
    // Told before the form opens, in the words Approve is told, by the reading the decision makes
    // (a request past its expiry, a vote already in): a form that could only be refused opens not.
    const refused = await voteRefusal(ctx, actor, click.requestId, delegators, named);
    if (refused || !row) await say(explain(refused));
    else await openDenyForm(ctx, app, row, payload.trigger_id, channel, slackUserId, named);
    return ACK;
  }
  // Who chose whom from a choice is told it counted; a plain click shows on the request's message.
  const chosen = click.named;
  const recorded = chosen === undefined ? undefined : chosen === actor.name ? 'Your approval is recorded.' : `Your approval for ${chosen} is recorded.`;
  await answerInTime(
    ctx,
    decideRequest(ctx, actor, click.requestId, { decision: 'approve', ...(named ? { onBehalfOf: named } : {}) }, 'slack', { slackUser: slackUserId, matchedBy: identity.matchedBy }).then(
      () => (recorded ? say(recorded) : undefined),
      (error: unknown) => say(explain(error)),
    ),
  );
  return ACK;
}

async function onViewSubmission(ctx: Context, app: SlackApp, payload: z.infer<typeof viewSubmissionSchema>): Promise<SlackAnswer> {
  if (payload.view.callback_id !== DENY_MODAL) return ACK;
  let metadata: z.infer<typeof denyMetadataSchema>;
  try {
    metadata = denyMetadataSchema.parse(JSON.parse(payload.view.private_metadata));
  } catch {
    return { kind: 'errors', errors: { [REASON_BLOCK]: 'This form is not one Greenlight opened.' } };
  }
  const reason = payload.view.state.values[REASON_BLOCK]?.[REASON_INPUT]?.value?.trim() ?? '';
  if (!showsSomething(reason)) return { kind: 'errors', errors: { [REASON_BLOCK]: 'Say why you deny it.' } };
  if (reason.length > LIMITS.comment) return { kind: 'errors', errors: { [REASON_BLOCK]: `At most ${LIMITS.comment} characters.` } };
  const identity = await slackIdentity(ctx, app, payload.user.id);
  if (identity.kind === 'refused') return { kind: 'errors', errors: { [REASON_BLOCK]: identity.explanation } };
  // A rule that takes no decision from chat is refused by decideRequest itself, in the click's words:
  // a submission for one can arrive without that click.
  try {
    const behalf = metadata.onBehalfOf ? { onBehalfOf: metadata.onBehalfOf } : {};
    await decideRequest(ctx, identity.actor, metadata.requestId, { decision: 'deny', comment: reason, ...behalf }, 'slack', { slackUser: payload.user.id, matchedBy: identity.matchedBy });
    return ACK;
  } catch (error) {
    return { kind: 'errors', errors: { [REASON_BLOCK]: explain(error) } };
  }
}

/** Acts on one verified interactivity payload (already parsed from the form's `payload` field). */
export async function handleSlackInteraction(ctx: Context, app: SlackApp, payload: unknown): Promise<SlackAnswer> {
  const actions = blockActionsSchema.safeParse(payload);
  if (actions.success) return onBlockAction(ctx, app, actions.data);
  const submission = viewSubmissionSchema.safeParse(payload);
  if (submission.success) return onViewSubmission(ctx, app, submission.data);
  return ACK;
}
