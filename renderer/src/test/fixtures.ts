import { requestFixture } from '../../../protocol/request-fixture.js';

/** A pending request as the hub sends it; override what a test cares about. */
export const makeRequest = requestFixture;

export const bob = { name: 'bob', groups: ['sre'], roles: ['approver'] };
export const carol = { name: 'carol', groups: ['sre'], roles: ['approver'] };
