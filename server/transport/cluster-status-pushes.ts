import type { ClusterStatus } from '../../protocol/index.js';
import type { DatabaseClock } from '../database-clock.js';
import type { PolicyAgreement } from '../domain/policy-agreement.js';
import { clusterStatus } from '../domain/setup-status.js';
import type { HubServer } from './hub-server.js';
import { ADMIN_ROOM } from './rooms.js';

/** What an admin is warned of: the hub list and the measured offset move more often than these. */
const warningsOf = (status: ClusterStatus): string => JSON.stringify([status.policyWarning, status.clockWarning ?? null]);

/**
 * Pushes this hub's cluster status (`cluster:status`) to its admins' sockets each time one of its
 * warnings appears, changes or clears: another hub's policy digest differs or agrees again, or a
 * measurement finds this hub's clock off or back. Only this hub's sockets: the status is this hub's
 * own (its policy against the others', its clock), and every hub pushes its own to its admins.
 */
export function pushClusterStatus(io: HubServer, agreement: PolicyAgreement, clock: Pick<DatabaseClock, 'onMeasured' | 'ownClockAheadMs'>): () => void {
  const current = () => clusterStatus(agreement, clock.ownClockAheadMs());
  let told = warningsOf(current());
  const check = () => {
    const status = current();
    const warnings = warningsOf(status);
    if (warnings === told) return;
    told = warnings;
    io.local.to(ADMIN_ROOM).emit('cluster:status', status);
  };
  const stopAgreement = agreement.onChange(check);
  const stopClock = clock.onMeasured(check);
  return () => {
    stopAgreement();
    stopClock();
  };
}
