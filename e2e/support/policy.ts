/**
 * The hub's policy during the browser suite. Each spec acts in its own approver group, so a
 * spec's inbox holds only its own requests even though all specs share one hub.
 */
export const TEST_POLICY = `
rules:
  - name: quorum
    match: { action: deploy, environment: production }
    approvers: [sre]
    minApprovals: 2
    expireAfter: 1h
    grantTtl: 15m
  - name: escalating
    match: { action: restart, environment: production }
    approvers: [oncall]
    escalation:
      - { after: 3s, notify: [leads] }
    expireAfter: 1h
    grantTtl: 10m
  - name: keyboard
    match: { action: rotate-key }
    approvers: [keys]
    expireAfter: 1h
    grantTtl: 10m
  - name: config
    match: { action: config }
    approvers: [platform]
    escalation:
      - { after: 1h, notify: [leads] }
    expireAfter: 2h
    grantTtl: 15m
  - name: bulk
    match: { action: bulk-check }
    approvers: [bulk]
    expireAfter: 1h
    grantTtl: 5m
    # One requester queues the 2,000 requests of the many-requests spec.
    maxPending: 10000
  - name: failover
    match: { action: failover }
    approvers: [outage]
    expireAfter: 1h
    grantTtl: 10m
  - name: decision-safety
    match: { action: decide-safely }
    approvers: [safety]
    expireAfter: 1h
    grantTtl: 10m
  - name: triage
    match: { action: triage }
    approvers: [triage]
    escalation:
      - { after: 2m, notify: [leads] }
    claimHolds: 10m
    expireAfter: 1h
    grantTtl: 15m
  - name: welcome
    match: { action: onboard }
    approvers: [welcome]
    expireAfter: 1h
    grantTtl: 5m
  - name: scheduling
    match: { action: schedule-maintenance }
    approvers: [maintainers]
    expireAfter: 1h
    grantTtl: 4h
  - name: scheduling-in-pairs
    match: { action: schedule-migration }
    approvers: [migrators]
    minApprovals: 2
    expireAfter: 1h
    grantTtl: 4h
  - name: extending
    match: { action: extend-session }
    approvers: [sessions]
    expireAfter: 1h
    grantTtl: 10m
    extensions: { autoApprove: 1, maxTotal: 1h }
  - name: two-groups
    match: { action: open-db }
    require:
      - { group: db-sre, count: 1 }
      - { group: db-security, count: 1 }
    expireAfter: 1h
    grantTtl: 10m
  - name: away
    match: { action: hand-over }
    approvers: [away]
    expireAfter: 1h
    grantTtl: 10m
  - name: away-pair
    match: { action: hand-over-pair }
    approvers: [away-pair]
    minApprovals: 2
    expireAfter: 1h
    grantTtl: 10m
  - name: glass
    match: { action: failover-db }
    approvers: [glass-sre]
    breakGlass: { groups: [glass-oncall], maxTtl: 30m, cooldown: 1h, reviewers: [glass-sec] }
    expireAfter: 1h
  - name: staging
    match: { action: deploy, environment: staging }
    autoApprove: true
`;

export { ADMIN_TOKEN } from '../../server/test-support/admin-token.js';
