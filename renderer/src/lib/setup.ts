import type { PolicyOffer } from '../../../protocol/policy.js';
import type { SetupStatus } from '../../../protocol/setup.js';

/** What a new hub still lacks, from the admin's setup status; null when nothing does. */
export interface SetupNeeds {
  /** Nobody but the one admin can sign in. */
  alone: boolean;
  /** Approver groups with nobody in them who may approve. */
  unstaffed: string[];
}

export function setupNeeds(setup: SetupStatus): SetupNeeds | null {
  const alone = setup.users.active <= 1;
  const unstaffed = setup.approverGroups.filter((group) => group.approvers.length === 0).map((group) => group.group);
  return alone || unstaffed.length > 0 ? { alone, unstaffed } : null;
}

/** A first request the policy would take, for the CLI example: the first action and environment it names. */
export function firstRequestCommand(offers: PolicyOffer[]): string {
  const offer = offers.find((candidate) => candidate.actions.length > 0 && candidate.environments.length > 0);
  const action = offer?.actions[0] ?? 'deploy';
  const environment = offer?.environments[0] ?? 'staging';
  return `greenlight request --action ${action} --resource my-service --env ${environment} --reason "first try" --wait`;
}
