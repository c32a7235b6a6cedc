import type { NewRequest, Role } from '../../protocol/index.js';

/** What `greenlight demo` sets up: a small team, a policy for it, and requests waiting on it. */

export const DEMO_POLICY = `# The demo hub's policy, written by \`greenlight demo\` on its first run. Edit it to try things:
# the hub reloads it when it changes. Rules are tried in order; the first that matches decides.
rules:
  - name: production-deploys
    match: { action: deploy, environment: production }
    approvers: [approvers]
    escalation:
      - { after: 15m, notify: [leads] }
    expireAfter: 4h
    grantTtl: 30m

  - name: database-access
    match: { action: db-access, environment: production }
    approvers: [approvers]
    expireAfter: 2h
    grantTtl: 1h

  # Left undecided for a minute, a flag change in production reaches the on-call lead too.
  - name: feature-flags
    match: { action: toggle-flag, environment: production }
    approvers: [approvers]
    escalation:
      - { after: 1m, notify: [leads] }
    expireAfter: 1h
    grantTtl: 15m

  - name: staging
    match: { environment: staging }
    autoApprove: true
`;

export interface DemoPerson {
  name: string;
  roles: Role[];
  groups: string[];
  /** Who they are, for the sign-in list. */
  about: string;
}

/** The admin is the hub's own bootstrap admin; these three are created beside it. */
export const DEMO_PEOPLE: DemoPerson[] = [
  { name: 'alice', roles: ['requester'], groups: ['developers'], about: 'developer: asks for approval' },
  { name: 'bob', roles: ['approver'], groups: ['approvers'], about: 'approver (group approvers)' },
  { name: 'lena', roles: ['lead'], groups: ['leads'], about: 'on-call lead (group leads)' },
];

export interface DemoRequest {
  /** Part of the idempotency key, so a second run finds the request instead of asking again. */
  slug: string;
  request: NewRequest;
}

const DEPLOY_DIFF = `diff --git a/src/payments/retry.ts b/src/payments/retry.ts
--- a/src/payments/retry.ts
+++ b/src/payments/retry.ts
@@ -12,10 +12,11 @@ export async function chargeWithRetry(order: Order, card: Card): Promise<Charge> {
   let attempt = 0;
+  const idempotencyKey = \`order-\${order.id}\`;
   for (;;) {
     try {
-      return await provider.charge({ amount: order.total, card, idempotencyKey: randomUUID() });
+      return await provider.charge({ amount: order.total, card, idempotencyKey });
     } catch (error) {
       if (!isTransient(error) || ++attempt >= MAX_ATTEMPTS) throw error;
       await sleep(backoff(attempt));
     }
   }
 }
diff --git a/deploy/production.yaml b/deploy/production.yaml
--- a/deploy/production.yaml
+++ b/deploy/production.yaml
@@ -4,7 +4,7 @@ service: payments-api
 replicas: 6
 image:
   repository: registry.example.com/payments-api
-  tag: 2.4.0
+  tag: 2.4.1
 resources:
   cpu: 500m
   memory: 512Mi
`;

const DEPLOY_LOGS = `build 812: 1,204 tests passed, 0 failed (4m 12s)
image registry.example.com/payments-api:2.4.1 pushed (sha256:9c1e…4af2)
canary: 2.4.1 on 5% of production traffic since 09:12 UTC
09:52 canary: 18,342 payments, 0 charged twice (2.4.0 over the same hour: 7)
09:52 canary: error rate 0.21% (2.4.0: 0.22%), p99 412 ms (2.4.0: 405 ms)
`;

const FLAG_DIFF = `diff --git a/flags/production.yaml b/flags/production.yaml
--- a/flags/production.yaml
+++ b/flags/production.yaml
@@ -8,5 +8,5 @@ checkout-web:
   express_pay: true
-  new_checkout: true
+  new_checkout: false
   saved_cards: true
   address_autocomplete: true
`;

export const DEMO_REQUESTS: DemoRequest[] = [
  {
    slug: 'deploy-payments',
    request: {
      action: 'deploy',
      resource: 'payments-api',
      environment: 'production',
      risk: 'high',
      reason: 'Release 2.4.1: stop charging twice when a card payment is retried (INC-4412)',
      context: {
        summary:
          'A retried card payment now reuses the first attempt’s idempotency key, so the provider returns the original charge instead of charging again. ' +
          'On the canary (5% of traffic for 40 minutes) nobody was charged twice; error rate and latency are unchanged.',
        diff: DEPLOY_DIFF,
        logs: DEPLOY_LOGS,
        links: [
          { title: 'PR #812', url: 'https://git.example.com/acme/payments-api/pull/812' },
          { title: 'INC-4412', url: 'https://tickets.example.com/INC-4412' },
          { title: 'Canary dashboard', url: 'https://grafana.example.com/d/payments-canary' },
        ],
        fields: { commit: '3f9c2a1', build: '812', canary: '5% for 40 min' },
      },
      requestedTtlSeconds: 1800,
    },
  },
  {
    slug: 'db-access-customers',
    request: {
      action: 'db-access',
      resource: 'customers-db',
      environment: 'production',
      risk: 'high',
      reason: 'Read-only look at ~300 orders stuck in "pending" since the 08:40 provider outage (INC-4419)',
      context: {
        summary:
          'I need to read orders and payment_attempts to see which stuck orders were charged before we replay them. ' +
          'Read-only role, no writes; the replay itself will be a separate request.',
        logs: `08:40:12 payments-worker ERROR provider timeout after 10000 ms (order 881204)
08:40:13 payments-worker ERROR provider timeout after 10000 ms (order 881207)
08:41:02 payments-worker WARN circuit open: 312 orders left in state pending
`,
        links: [{ title: 'INC-4419', url: 'https://tickets.example.com/INC-4419' }],
        fields: { access: 'read-only (role support_ro)', tables: 'orders, payment_attempts', rows: 'about 300' },
      },
      requestedTtlSeconds: 3600,
    },
  },
  {
    slug: 'flag-new-checkout',
    request: {
      action: 'toggle-flag',
      resource: 'checkout-web',
      environment: 'production',
      risk: 'medium',
      reason: 'Turn off new_checkout: 3% of sessions fail at the payment step since 09:30',
      context: {
        summary: 'Safari 17 users cannot get past the payment step of the new checkout. Turning the flag off sends everyone back to the old checkout until the fix ships.',
        diff: FLAG_DIFF,
        links: [
          { title: 'Checkout errors', url: 'https://grafana.example.com/d/checkout-errors' },
          { title: 'INC-4421', url: 'https://tickets.example.com/INC-4421' },
        ],
        fields: { flag: 'new_checkout', 'failing sessions': '3.1%' },
      },
    },
  },
];
