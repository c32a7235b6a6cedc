import type { GreenlightRequest } from '../protocol/request.js';
import type { User } from '../protocol/user.js';

export type Me = Pick<User, 'name' | 'groups' | 'roles' | 'actingFor'>;

/** Whether the request has escalated to a step that names me or one of my groups. */
export function escalatedToMe(request: GreenlightRequest, me: Me): boolean {
  if (request.escalationLevel <= 0) return false;
  return request.rule.escalation
    .slice(0, request.escalationLevel)
    .some((step) => step.notify.includes(me.name) || step.notify.some((target) => me.groups.includes(target)));
}
