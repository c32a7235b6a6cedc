import type { CheckpointSetup } from '../domain/checkpointer.js';
import type { Context } from '../domain/context.js';
import type { OidcSignIn } from '../auth/oidc/sign-in.js';
import type { Metrics } from '../metrics.js';
import type { Readiness } from '../readiness.js';
import type { RouteRecord } from './openapi.js';
import type { Waiters } from './waiters.js';
import type { FailedAuthentications } from './failed-authentications.js';

/** What the HTTP app and its route files are built from. */
export interface HttpDeps {
  ctx: Context;
  /** Single sign-on, when the hub configuration has an `oidc:` section. */
  oidc?: OidcSignIn | null;
  metrics: Metrics;
  waiters: Waiters;
  rateLimitPerMinute: number;
  failedAuthentications: FailedAuthentications;
  /** Behind a proxy that sets X-Forwarded-For: take the client's address (rate limits, audit) from it. */
  trustProxy: boolean;
  waitPollMs: number | null;
  consoleDir: string | null;
  healthy: () => Promise<boolean>;
  ready: () => Promise<Readiness>;
  /** One info line per request (method, route pattern, status, duration, user). */
  accessLog: boolean;
  /** Filled with every route as it is registered, documented or not. */
  routes?: RouteRecord[];
  /** How long a client may take to send one whole request (headers and body); answered long-polls are not affected. */
  requestTimeoutMs?: number;
  /** The audit checkpoint key (published) and the hub's checkpoint log (read by verify). */
  checkpoints: CheckpointSetup;
}
