import { ErrorCode } from '@slack/web-api';
import type { DeliveryOutcome } from '../delivery.js';

interface SlackErrorShape {
  code?: unknown;
  retryAfter?: unknown;
  statusCode?: unknown;
  data?: { error?: unknown };
  message?: unknown;
}

/** A failed Web API call as the dispatcher files it: a 429 carries Slack's Retry-After. */
export function slackFailure(error: unknown): DeliveryOutcome {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SlackErrorShape;
  switch (shape.code) {
    case ErrorCode.RateLimitedError: {
      const seconds = typeof shape.retryAfter === 'number' ? shape.retryAfter : null;
      return { kind: 'failed', status: 429, error: `Slack is rate limiting${seconds === null ? '' : `; retry after ${seconds} s`}`, retryAfterMs: seconds === null ? null : seconds * 1000 };
    }
    case ErrorCode.PlatformError:
      return { kind: 'failed', status: 200, error: `Slack refused the call: ${String(shape.data?.error ?? 'unknown error')}`, retryAfterMs: null };
    case ErrorCode.HTTPError:
      return { kind: 'failed', status: typeof shape.statusCode === 'number' ? shape.statusCode : null, error: `Slack answered HTTP ${String(shape.statusCode)}`, retryAfterMs: null };
    default:
      return { kind: 'failed', status: null, error: `cannot reach Slack: ${typeof shape.message === 'string' ? shape.message : String(error)}`, retryAfterMs: null };
  }
}

/** The Slack error code of a platform error (`message_not_found`, …), or null. */
export function platformErrorOf(error: unknown): string | null {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SlackErrorShape;
  return shape.code === ErrorCode.PlatformError && typeof shape.data?.error === 'string' ? shape.data.error : null;
}
