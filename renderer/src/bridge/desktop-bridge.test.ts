import { describe, expect, it } from 'vitest';
import type { DesktopApi, DesktopEvent } from '../../../protocol/desktop-api.js';
import type { BridgeEvent } from './bridge.js';
import { DesktopBridge } from './desktop-bridge.js';
import { makeRequest } from '../test/fixtures.js';

const session = { hubUrl: 'https://hub.example', signedIn: true, state: 'connected' as const, error: null };

/** A preload stand-in: calls a test does not override answer with an error. */
function fakeApi(overrides: Partial<DesktopApi> = {}): { api: DesktopApi; push: (event: DesktopEvent) => void } {
  let listener: ((event: DesktopEvent) => void) | null = null;
  const notUsed = async () => ({ error: { code: 'INTERNAL' as const, message: 'not used in this test' } });
  const api: DesktopApi = {
    getSession: async () => ({ data: session }),
    signIn: notUsed,
    signOut: notUsed,
    sync: notUsed,
    submit: notUsed,
    decide: notUsed,
    cancel: notUsed,
    claim: notUsed,
    release: notUsed,
    get: notUsed,
    revokeGrant: notUsed,
    audit: notUsed,
    exportAudit: notUsed,
    openExternal: notUsed,
    onEvent: (next) => {
      listener = next;
      return () => (listener = null);
    },
    ...overrides,
  };
  return { api, push: (event) => listener?.(event) };
}

describe('DesktopBridge', () => {
  it('turns an error ack into a GreenlightError with its code', async () => {
    const { api } = fakeApi({ decide: async () => ({ error: { code: 'ALREADY_DECIDED', message: 'carol was faster' } }) });
    await expect(new DesktopBridge(api).decide({ requestId: 'r1', decision: 'approve' })).rejects.toMatchObject({
      name: 'GreenlightError',
      code: 'ALREADY_DECIDED',
      message: 'carol was faster',
    });
  });

  it('passes data acks through and remembers the hub URL from the session', async () => {
    const request = makeRequest();
    const { api } = fakeApi({ claim: async ({ requestId }) => ({ data: { ...request, id: requestId } }) });
    const bridge = new DesktopBridge(api);
    await expect(bridge.claim('r9')).resolves.toMatchObject({ id: 'r9' });
    await bridge.resume().catch(() => undefined);
    expect(bridge.defaultHubUrl()).toBe('https://hub.example');
  });

  it('rejects a sign-in the main process reports as failed', async () => {
    const { api } = fakeApi({
      signIn: async () => ({ data: { ...session, signedIn: false, state: 'unauthorized', error: { code: 'UNAUTHENTICATED', message: 'bad token' } } }),
    });
    await expect(new DesktopBridge(api).signIn('https://hub.example', 'glt_x')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('maps pushes from the main process to bridge events', () => {
    const { api, push } = fakeApi();
    const seen: BridgeEvent[] = [];
    const off = new DesktopBridge(api).subscribe((event) => seen.push(event));
    push({ type: 'state', session: { ...session, state: 'reconnecting' } });
    push({ type: 'open-request', requestId: 'r1' });
    off();
    push({ type: 'open-request', requestId: 'r2' });
    expect(seen).toEqual([
      { type: 'state', state: 'reconnecting', error: null },
      { type: 'open-request', requestId: 'r1' },
    ]);
  });
});
