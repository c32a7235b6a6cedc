import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DesktopApi, DesktopEvent } from '../protocol/desktop-api.js';
import { IPC_METHODS } from './ipc.js';
import { channelOf } from './ipc-contract.js';

const exposed = new Map<string, unknown>();
const invoked: { channel: string; arg: unknown }[] = [];
const listeners = new Map<string, ((event: unknown, payload: unknown) => void)[]>();

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
  ipcRenderer: {
    invoke: async (channel: string, arg: unknown) => {
      invoked.push({ channel, arg });
      return { data: null };
    },
    on: (channel: string, listener: (event: unknown, payload: unknown) => void) => {
      listeners.set(channel, [...(listeners.get(channel) ?? []), listener]);
    },
    removeListener: (channel: string, listener: (event: unknown, payload: unknown) => void) => {
      listeners.set(channel, (listeners.get(channel) ?? []).filter((other) => other !== listener));
    },
  },
}));

beforeEach(() => {
  invoked.length = 0;
});

describe('preload with Electron fakes', () => {
  it('exposes exactly the DesktopApi methods as window.greenlight, each on its contract channel', async () => {
    await import('./preload/preload.js');
    const api = exposed.get('greenlight') as DesktopApi;
    expect(Object.keys(api).sort()).toEqual([...IPC_METHODS, 'onEvent'].sort());
    await api.decide({ requestId: 'req_1', decision: 'approve' });
    await api.getSession();
    await api.updateSettings({ pausedUntil: null });
    await api.getSettings();
    expect(invoked).toEqual([
      { channel: channelOf('decide'), arg: { requestId: 'req_1', decision: 'approve' } },
      { channel: channelOf('getSession'), arg: undefined },
      { channel: 'greenlight:updateSettings', arg: { pausedUntil: null } },
      { channel: 'greenlight:getSettings', arg: undefined },
    ]);
  });

  it('forwards pushed events without the Electron event object, and unsubscribes', async () => {
    await import('./preload/preload.js');
    const api = exposed.get('greenlight') as DesktopApi;
    const received: DesktopEvent[] = [];
    const off = api.onEvent((event) => received.push(event));
    const push = (payload: DesktopEvent) => listeners.get('greenlight:event')?.forEach((listener) => listener({ sender: 'secret' }, payload));
    push({ type: 'open-request', requestId: 'req_1' });
    off();
    push({ type: 'open-request', requestId: 'req_2' });
    expect(received).toEqual([{ type: 'open-request', requestId: 'req_1' }]);
  });

  it('requires nothing at runtime but electron (a sandboxed preload cannot)', () => {
    const source = readFileSync(new URL('./preload/preload.ts', import.meta.url), 'utf8');
    const runtimeImports = [...source.matchAll(/^import (?!type )[^;]*from '([^']+)'/gm)].map((match) => match[1]);
    expect(runtimeImports).toEqual(['electron']);
  });
});
