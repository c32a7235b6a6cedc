import { spawnHub } from '../../server/test-support/hub-process.js';
import { ADMIN_TOKEN, TEST_POLICY } from './policy.js';

/**
 * Starts one real hub for the suite: a free port on 127.0.0.1, a temporary data directory,
 * a fixed admin token and the test policy. Workers read the URL from the environment.
 * Set GREENLIGHT_E2E_URL (and GREENLIGHT_E2E_ADMIN_TOKEN) to run against a hub you started.
 */
export default async function globalSetup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.GREENLIGHT_E2E_URL) return undefined;
  const hub = await spawnHub({ policy: TEST_POLICY, adminToken: ADMIN_TOKEN, args: ['--rate-limit', '100000'], logToFile: true });
  process.env.GREENLIGHT_E2E_URL = hub.url;
  process.env.GREENLIGHT_E2E_ADMIN_TOKEN = ADMIN_TOKEN;
  process.env.GREENLIGHT_E2E_HUB_LOG = hub.logFile ?? '';
  return () => hub.stop({ keepData: Boolean(process.env.GREENLIGHT_E2E_KEEP_DATA) });
}
