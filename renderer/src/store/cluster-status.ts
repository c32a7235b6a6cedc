import type { ClusterStatus, SetupStatus } from '../../../protocol/setup.js';
import type { Bridge } from '../bridge/bridge.js';
import { useStore } from './store.js';

/** Pushes heard, and the latest: a setup read that one overtook keeps the pushed, newer cluster status. */
let pushes = 0;
let latestPushed: ClusterStatus | null = null;

/** The hub pushed its cluster status (to admins): the warnings shown follow at once. */
export function onClusterStatus(cluster: ClusterStatus): void {
  pushes += 1;
  latestPushed = cluster;
  // Not read yet: the pane that shows it reads the whole status as it opens.
  useStore.setState((state) => (state.setup ? { setup: { ...state.setup, cluster } } : {}));
}

/** Reads the setup status through `bridge`; its cluster part gives way to a push heard meanwhile. */
export async function readSetup(bridge: Bridge): Promise<SetupStatus> {
  const before = pushes;
  const setup = await bridge.setupStatus();
  return pushes !== before && latestPushed ? { ...setup, cluster: latestPushed } : setup;
}
