// The reliability suite's helpers live with every other test helper; kept here so its files import them as before.
export { auditEvents, call, countByRequest, isErrorCode, isWireError, type ErrorBody, type Reply } from '../server/test-support/http.js';
export { eventually } from '../server/test-support/eventually.js';
