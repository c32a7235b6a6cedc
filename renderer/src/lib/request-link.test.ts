import { describe, expect, it } from 'vitest';
import { requestIdFromLink } from './request-link.js';

describe('a link into the console', () => {
  it('names the request a chat message links to, and nothing that is not a request id', () => {
    expect(requestIdFromLink('?request=req_0mx7bibo9e4c85fc')).toBe('req_0mx7bibo9e4c85fc');
    expect(requestIdFromLink('?other=1&request=req_1')).toBe('req_1');
    expect(requestIdFromLink('')).toBeNull();
    expect(requestIdFromLink('?request=../admin')).toBeNull();
    expect(requestIdFromLink('?request=')).toBeNull();
  });
});
