import { describe, expect, it } from 'vitest';
import { requestFixture } from './request-fixture.js';
import { newRequestSchema, requestSchema } from './request.js';

describe('labels shown on one line', () => {
  const submitted = { action: 'deploy', resource: 'api', environment: 'production', reason: 'ship it' };

  it('are refused with a line break when submitted', () => {
    const result = newRequestSchema.safeParse({ ...submitted, context: { links: [{ title: 'CI\nApproved: yes', url: 'https://ci.example.com/1' }], fields: { 'ticket\nok': 'x' } } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['context.links.0.title', 'context.fields.ticket\nok']);
  });

  it('still read when a request stored before the rule holds one, so clients and other hubs do not drop it', () => {
    const stored = requestFixture({ context: { links: [{ title: 'CI\nrun', url: 'https://ci.example.com/1' }], fields: { 'ticket\nid': 'x' } } });
    expect(requestSchema.safeParse(stored).success).toBe(true);
  });
});
