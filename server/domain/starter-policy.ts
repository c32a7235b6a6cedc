import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const STARTER_POLICY_FILE = 'policy.yaml';

/**
 * The policy a hub started without --policy writes into its data directory: one rule in force
 * (one approval from group `approvers`, as the built-in default), and a commented example of each
 * thing a rule can say. Every example is a valid rule once its leading "# " is removed.
 */
export const STARTER_POLICY = `# Greenlight policy, written by the hub on its first start because no --policy was given.
# The hub reloads this file when it changes; an edit that does not parse keeps the previous
# policy, and the hub log and the audit log say why.
#
# Rules are tried in order and the first that matches decides. A request no rule matches is
# refused (NO_POLICY), never silently allowed. A request whose approver groups have nobody
# active in them is refused too (NO_APPROVERS), unless an escalation step has someone.
# Durations are written 30s, 5m, 1h or 2d.
#
# Put someone in the group "approvers":
#   npx greenlight user add bob --role approver --group approvers
rules:
  # Examples. To use one, remove the leading "# " of its lines and keep it above "default".
  #
  # Production deploys need two approvers from sre; undecided, they escalate to sre-leads,
  # then to managers and the user carol, and expire after an hour.
  # - name: prod-deploys
  #   match: { action: deploy, environment: production }   # also resource and risk; each may be a list
  #   approvers: [sre]              # groups whose members may approve
  #   minApprovals: 2               # distinct approvers; a single deny denies
  #   escalation:
  #     - { after: 5m, notify: [sre-leads] }
  #     - { after: 20m, notify: [managers, carol] }   # groups or user names
  #   expireAfter: 1h               # still undecided then: expired
  #   grantTtl: 15m                 # the longest a grant lives (a request may ask for less)
  #   claimHolds: 10m               # how long "I'm looking at it" holds escalation
  #
  # Opening a production database: the on-call DBA may approve their own request.
  # - name: database-access
  #   match: { action: db-access, resource: "*-db", risk: [high, critical] }   # "*" matches any characters
  #   approvers: [dba]
  #   allowSelfApproval: true       # the default, false, means nobody approves their own request
  #   grantTtl: 30m
  #
  # Staging deploys go through at once: still audited, still with a grant.
  # - name: staging
  #   match: { action: deploy, environment: staging }
  #   autoApprove: true

  # Everything else: one approval from a member of the group "approvers".
  - name: default
    match: {}
    approvers: [approvers]
    minApprovals: 1
    allowSelfApproval: false
    grantTtl: 15m
`;

/**
 * The starter policy's path in `dataDir`, writing it first when it is not there yet. A file already
 * there (an earlier start's, since edited) is used as it is, never overwritten.
 */
export function ensureStarterPolicy(dataDir: string): { file: string; created: boolean } {
  const file = path.join(dataDir, STARTER_POLICY_FILE);
  if (existsSync(file)) return { file, created: false };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    // `wx`: if another hub on the same directory wrote it a moment ago, keep theirs.
    writeFileSync(file, STARTER_POLICY, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { file, created: false };
    throw error;
  }
  return { file, created: true };
}
