import { describe, expect, it } from 'vitest';
import { readLaunchEnv } from './launch-env.js';

describe('launch environment', () => {
  it('reads the hub and token once and removes the token from the environment', () => {
    const env: NodeJS.ProcessEnv = { GREENLIGHT_HUB: 'http://127.0.0.1:7300/', GREENLIGHT_TOKEN: 'glt_x' };
    expect(readLaunchEnv(env, [], () => {})).toEqual({ credentials: { hubUrl: 'http://127.0.0.1:7300', token: 'glt_x' }, userData: null, hidden: false });
    expect(env.GREENLIGHT_TOKEN).toBeUndefined();
  });

  it('ignores a bad hub URL with a warning', () => {
    const warnings: string[] = [];
    expect(readLaunchEnv({ GREENLIGHT_HUB: 'file:///x', GREENLIGHT_TOKEN: 't' }, ['--hidden'], (m) => warnings.push(m))).toEqual({ credentials: null, userData: null, hidden: true });
    expect(warnings[0]).toContain('GREENLIGHT_HUB');
  });

  it('refuses a hub on another machine over plain http, saying why, so the token is never sent in the clear', () => {
    const warnings: string[] = [];
    expect(readLaunchEnv({ GREENLIGHT_HUB: 'http://greenlight.corp.example.com', GREENLIGHT_TOKEN: 't' }, [], (m) => warnings.push(m)).credentials).toBeNull();
    expect(warnings[0]).toContain('use https://');
  });
});
