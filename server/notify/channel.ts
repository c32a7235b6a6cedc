import type { GreenlightRequest, NotificationEvent } from '../../protocol/index.js';
import type { DeliveryEndpoint } from './delivery.js';

/** One event as a chat channel renders it into the body of an outbox row. */
export interface OutgoingEvent {
  type: NotificationEvent;
  timestamp: string;
  /** The request as approvers see it: never the grant token. */
  data: GreenlightRequest;
  /** Set on events people must look at now (break-glass): channels show `message` before anything else. */
  urgent?: true;
  message?: string;
}

/**
 * A chat channel (Slack, Teams): a delivery endpoint that also says which events it takes and renders
 * each into its row's body.
 */
export interface ChatEndpoint extends DeliveryEndpoint {
  wants(event: NotificationEvent): boolean;
  /** The row body for `target` (the policy's name for this destination). */
  render(event: OutgoingEvent, target: string): string;
}
