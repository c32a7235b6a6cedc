import { createHmac } from 'node:crypto';
import type { PostedMessage, SlackStandIn } from './slack-stand-in.js';

type Json = Record<string, unknown>;

/** Signs a body exactly as Slack does: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`. */
export function slackHeaders(signingSecret: string, body: string, timestampSeconds: number): Record<string, string> {
  const timestamp = String(timestampSeconds);
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`,
  };
}

/** Slack's interactivity body: one form field, `payload`, holding the JSON. */
export const slackForm = (payload: Json): string => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

export async function sendToHub(hubUrl: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${hubUrl}/integrations/slack/actions`, { method: 'POST', headers, body });
  return { status: response.status, text: await response.text() };
}

interface Button {
  action_id: string;
  value?: string;
  text: { text: string };
  confirm?: { title: { text: string }; text: { text: string } };
  url?: string;
}

/** The buttons a message shows now. */
export function buttonsOf(message: PostedMessage): Button[] {
  return message.blocks.filter((block) => block.type === 'actions').flatMap((block) => (block.elements as Button[] | undefined) ?? []);
}

/**
 * A person in Slack, as Slack's own client would act for them: clicking a button is one click, and a
 * button with a confirmation dialog takes a second click to confirm before Slack sends anything.
 * Every request to the hub is signed as Slack signs it.
 */
export class SlackPerson {
  clicks = 0;
  private triggers = 0;

  constructor(
    readonly slackUserId: string,
    private readonly hubUrl: () => string,
    private readonly signingSecret: string,
    private readonly slack: SlackStandIn,
    private readonly now: () => number = () => Date.now(),
  ) {}

  private async send(payload: Json): Promise<{ status: number; text: string }> {
    const body = slackForm(payload);
    return sendToHub(this.hubUrl(), body, slackHeaders(this.signingSecret, body, Math.floor(this.now() / 1000)));
  }

  /** Clicks the button labelled `label` on `message`, confirming its dialog if it has one. */
  async click(message: PostedMessage, label: string): Promise<{ status: number; text: string; triggerId: string }> {
    const button = buttonsOf(message).find((candidate) => candidate.text.text === label);
    if (!button) throw new Error(`no "${label}" button on this message`);
    this.clicks += 1;
    if (button.confirm) this.clicks += 1;
    this.triggers += 1;
    const triggerId = `trigger-${this.slackUserId}-${this.triggers}`;
    const answer = await this.send({
      type: 'block_actions',
      user: { id: this.slackUserId },
      trigger_id: triggerId,
      channel: { id: message.channel },
      container: { type: 'message', channel_id: message.channel, message_ts: message.ts },
      actions: [{ type: 'button', action_id: button.action_id, value: button.value, block_id: 'decide', action_ts: String(this.now() / 1000) }],
    });
    return { ...answer, triggerId };
  }

  /** Types a reason into the modal views.open showed for `triggerId` and presses its submit button. */
  async submitModal(triggerId: string, reason: string): Promise<{ status: number; text: string }> {
    const opened = this.slack.callsOf('views.open').find((call) => call.args.trigger_id === triggerId);
    if (!opened) throw new Error(`no modal was opened for ${triggerId}`);
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    return this.submitForm(view.callback_id, view.private_metadata, reason);
  }

  /** Submits a reason form with `callbackId` and `privateMetadata`, opened or not: a crafted one is signed alike. */
  async submitForm(callbackId: string, privateMetadata: string, reason: string): Promise<{ status: number; text: string }> {
    this.clicks += 1;
    return this.send({
      type: 'view_submission',
      user: { id: this.slackUserId },
      view: { id: 'V1', callback_id: callbackId, private_metadata: privateMetadata, state: { values: { reason: { reason: { type: 'plain_text_input', value: reason } } } } },
    });
  }
}
