import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { GreenlightError } from '../../../protocol/index.js';
import type { HttpDeps } from '../http-deps.js';
import { routeDoc } from '../route-docs.js';
import { handleSlackInteraction } from '../slack-interactions.js';
import { SlackReplayGuard } from '../slack-replay.js';
import { slackSignatureProblem } from '../slack-signature.js';

export const SLACK_ACTIONS_PATH = '/integrations/slack/actions';

const doc = routeDoc({
  summary: 'Slack interactivity: button clicks and the deny form',
  description:
    "Slack's Request URL for interactivity. Form-encoded `payload`, signed by Slack (`X-Slack-Signature`, `X-Slack-Request-Timestamp`): a bad or replayed signature, or a timestamp more than 5 minutes off, is refused with 401 and audited as auth.failed. Clicks decide through the same rules as the app.",
  tag: 'integrations',
  auth: 'none',
  responses: { 200: z.object({ response_action: z.literal('errors').optional(), errors: z.record(z.string(), z.string()).optional() }) },
  errors: [404],
});

const formSchema = z.object({ payload: z.string().min(2) });

/**
 * Inbound Slack interactivity. Verifies the signature over the raw body before reading anything,
 * refuses replays across hubs, then hands the payload to the same decision code as every path.
 */
export const slackActionRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  const replays = new SlackReplayGuard(deps.ctx);
  // The signature covers the body exactly as sent: keep it as text and parse the form afterwards.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));

  app.post(SLACK_ACTIONS_PATH, { schema: doc }, async (request, reply) => {
    const slack = deps.ctx.outbox?.slack;
    if (!slack) throw new GreenlightError('NOT_FOUND', 'Slack is not configured on this hub (notifiers.slack).');
    const raw = typeof request.body === 'string' ? request.body : '';
    const timestamp = request.headers['x-slack-request-timestamp'];
    const signature = request.headers['x-slack-signature'];
    const nowSeconds = Math.floor(deps.ctx.clock.now().getTime() / 1000);
    let problem = slackSignatureProblem(slack.signingSecret, timestamp, signature, raw, nowSeconds);
    if (!problem && !(await replays.firstSight(String(signature), Number(timestamp)))) problem = 'replayed signature';
    if (problem) throw await deps.failedAuthentications.refuse(request.ip, `POST ${SLACK_ACTIONS_PATH}`, `Slack request refused: ${problem}`, `Not a valid Slack request: ${problem}.`);

    const form = formSchema.safeParse(Object.fromEntries(new URLSearchParams(raw)));
    if (!form.success) throw new GreenlightError('INVALID_INPUT', 'Expected a form with a "payload" field, as Slack sends.');
    let payload: unknown;
    try {
      payload = JSON.parse(form.data.payload);
    } catch {
      throw new GreenlightError('INVALID_INPUT', 'The "payload" field is not JSON.');
    }
    const answer = await handleSlackInteraction(deps.ctx, slack, payload);
    if (answer.kind === 'errors') return reply.code(200).send({ response_action: 'errors', errors: answer.errors });
    return reply.code(200).send();
  });
};
