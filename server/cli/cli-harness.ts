// The CLI's tests import their helpers from here; they live with every other test helper in server/test-support/.
export { BIN, CliProcess, cli, startCli, type CliResult } from '../test-support/cli-process.js';
export { CliHub, TEST_POLICY } from '../test-support/cli-hub.js';
