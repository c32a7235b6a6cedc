import { describe, expect, it } from 'vitest';
import type { DesktopSession, DesktopSettings } from '../protocol/desktop-api.js';
import { GreenlightError } from '../protocol/errors.js';
import type { User } from '../protocol/user.js';
import { IPC_METHODS, registerIpc, trustedSender, type IpcHandlers } from './ipc.js';
import { channelOf } from './ipc-contract.js';
import { FakeIpcMain, FakeWebContents } from './test/electron-fakes.js';
import { aRequest } from './test/fixtures.js';

const session: DesktopSession = { hubUrl: 'http://hub', signedIn: true, state: 'connected', error: null };
const desktopSettings: DesktopSettings = { hubUrl: 'http://hub', notificationsEnabled: true, pausedUntil: null, launchAtLogin: false };
const user: User = { id: 'usr_1', name: 'bob', roles: ['approver'], groups: ['sre'], email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: '2026-12-01T00:00:00.000Z' };
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

function setup() {
  const ipcMain = new FakeIpcMain();
  const own = new FakeWebContents();
  const calls: { method: string; arg: unknown }[] = [];
  const record =
    <T>(method: string, result: T) =>
    (arg: unknown) => {
      calls.push({ method, arg });
      return result;
    };
  const request = aRequest();
  const delegation = { id: 'dlg_1', from: 'bob', to: 'carol', startsAt: '2030-01-01T00:00:00.000Z', endsAt: '2030-01-08T00:00:00.000Z', rules: null, reason: 'holiday', createdBy: 'bob', createdAt: '2030-01-01T00:00:00.000Z', endedAt: null, endedBy: null, active: true };
  const token = { id: 'tok_0mx00000000abcdef', name: 'ci', user: 'bob', kind: 'api' as const, scopes: ['requests:read' as const], createdAt: '2030-01-01T00:00:00.000Z', expiresAt: '2030-04-01T00:00:00.000Z', lastUsedAt: null };
  const handlers: IpcHandlers = {
    getSession: record('getSession', session),
    signIn: record('signIn', session),
    signInWithBrowser: record('signInWithBrowser', session),
    cancelSignInWithBrowser: record('cancelSignInWithBrowser', true),
    signOut: record('signOut', session),
    dismissSignOutNote: record('dismissSignOutNote', session),
    sync: () => Promise.reject(new GreenlightError('UNAUTHENTICATED', 'Sign in to a hub first.')),
    submit: record('submit', request),
    decide: record('decide', request),
    cancel: record('cancel', request),
    review: record('review', request),
    claim: record('claim', request),
    release: record('release', request),
    get: record('get', request),
    revokeGrant: record('revokeGrant', request),
    extendGrant: record('extendGrant', request),
    audit: record('audit', { events: [], nextCursor: null }),
    exportAudit: record('exportAudit', { outcome: 'saved' as const, path: '/home/bob/Downloads/a.csv', events: 2 }),
    decisionReport: record('decisionReport', { from: '2030-01-01T00:00:00.000Z', to: '2030-01-31T00:00:00.000Z', rules: [] }),
    explainPolicy: record('explainPolicy', { matched: false, rule: null, summary: 'no rule', autoApprove: false, allowSelfApproval: false, approvals: 0, groups: [], escalation: [], expiresAt: null, grantTtlSeconds: null, windows: [], breakGlass: null, skipped: [] }),
    openExternal: record('openExternal', true),
    listUsers: record('listUsers', [user]),
    listDelegations: record('listDelegations', []),
    createDelegation: record('createDelegation', delegation),
    endDelegation: record('endDelegation', { ...delegation, active: false }),
    createUser: record('createUser', { ...user, token: 'glt_shown_once_0123456789' }),
    updateUser: record('updateUser', user),
    disableUser: record('disableUser', { ...user, status: 'disabled' as const, disabled: true }),
    enableUser: record('enableUser', user),
    setupStatus: record('setupStatus', { policy: { source: 'built-in' as const, file: null, rules: 1 }, users: { active: 1, total: 1 }, approverGroups: [] }),
    listTokens: record('listTokens', [token]),
    createToken: record('createToken', { ...token, token: 'glt_shown_once_0123456789' }),
    revokeToken: record('revokeToken', token),
    myChannels: record('myChannels', { channels: [{ channel: 'email', reaches: true, detail: 'emailed', address: 'bob@example.com', rules: ['prod'] }] }),
    getSettings: record('getSettings', desktopSettings),
    updateSettings: record('updateSettings', desktopSettings),
  };
  const dispose = registerIpc({ ipcMain, isTrustedSender: trustedSender((sender) => sender.id === own.id), handlers });
  const app = { contents: own, url: 'app://greenlight/index.html' };
  return { ipcMain, own, calls, app, request, dispose };
}

describe('IPC with Electron fakes', () => {
  it('registers exactly one handler per method of the contract, and removes them', () => {
    const { ipcMain, dispose } = setup();
    expect([...ipcMain.handlers.keys()].sort()).toEqual(IPC_METHODS.map((method) => channelOf(method)).sort());
    expect(IPC_METHODS).toHaveLength(36);
    dispose();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('passes a valid call from the app window to its handler and wraps the result in an Ack', async () => {
    const { ipcMain, app, calls, request } = setup();
    expect(await ipcMain.invoke('greenlight:getSession', app)).toEqual({ data: session });
    expect(await ipcMain.invoke('greenlight:decide', app, { requestId: request.id, decision: 'approve' })).toEqual({ data: request });
    expect(calls.map((call) => call.method)).toEqual(['getSession', 'decide']);
  });

  it('fills defaults from the schema before the handler sees the argument', async () => {
    const { ipcMain, app, calls } = setup();
    await ipcMain.invoke('greenlight:submit', app, { action: 'deploy', resource: 'api', environment: 'prod', reason: 'fix' });
    expect(calls[0]?.arg).toMatchObject({ risk: 'medium', context: {} });
  });

  it('rejects a foreign sender: another web contents, a subframe, or a page not served by the app', async () => {
    const { ipcMain, app, calls } = setup();
    const stranger = new FakeWebContents();
    for (const sender of [
      { contents: stranger, url: 'app://greenlight/index.html' },
      { ...app, subframe: true },
      { contents: app.contents, url: 'https://evil.example.com/' },
      { contents: app.contents, url: 'file:///tmp/x.html' },
    ]) {
      const ack = await ipcMain.invoke('greenlight:decide', sender, { requestId: 'req_1', decision: 'approve' });
      expect(ack).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    expect(calls).toEqual([]);
  });

  it('rejects a foreign sender on the settings channels too', async () => {
    const { ipcMain, app, calls } = setup();
    const stranger = { contents: new FakeWebContents(), url: 'app://greenlight/index.html' };
    for (const sender of [stranger, { ...app, subframe: true }, { contents: app.contents, url: 'https://evil.example.com/' }]) {
      expect(await ipcMain.invoke('greenlight:getSettings', sender)).toMatchObject({ error: { code: 'FORBIDDEN' } });
      const ack = await ipcMain.invoke('greenlight:updateSettings', sender, { notificationsEnabled: false });
      expect(ack).toMatchObject({ error: { code: 'FORBIDDEN' } });
    }
    expect(calls).toEqual([]);
  });

  it('passes valid settings updates through: a future pause, a resume, the switches', async () => {
    const { ipcMain, app, calls } = setup();
    const until = inAnHour();
    for (const arg of [{ pausedUntil: until }, { pausedUntil: null }, { notificationsEnabled: false, launchAtLogin: true }]) {
      expect(await ipcMain.invoke('greenlight:updateSettings', app, arg)).toEqual({ data: desktopSettings });
    }
    expect(await ipcMain.invoke('greenlight:getSettings', app)).toEqual({ data: desktopSettings });
    expect(calls.map((call) => call.arg)).toEqual([{ pausedUntil: until }, { pausedUntil: null }, { notificationsEnabled: false, launchAtLogin: true }, undefined]);
  });

  it('rejects a malformed settings update with INVALID_INPUT naming the field', async () => {
    const { ipcMain, app, calls } = setup();
    const cases: [unknown, string][] = [
      [{ pausedUntil: new Date(Date.now() - 60_000).toISOString() }, 'pausedUntil'],
      [{ pausedUntil: 'tomorrow-ish' }, 'pausedUntil'],
      [{ pausedUntil: '2026-11-25' }, 'pausedUntil'],
      [{ pausedUntil: new Date(Date.now() + 30 * 24 * 3600_000).toISOString() }, 'pausedUntil'],
      [{ pausedUntil: Date.now() + 3600_000 }, 'pausedUntil'],
      [{ notificationsEnabled: 'no' }, 'notificationsEnabled'],
      [{ launchAtLogin: 1 }, 'launchAtLogin'],
      [{ hubUrl: 'https://evil.example.com' }, 'hubUrl'],
      [{ windowBounds: { width: 800, height: 600 } }, 'windowBounds'],
      [{}, 'at least one setting'],
      ['pause', ''],
      [null, ''],
    ];
    for (const [arg, field] of cases) {
      const ack = (await ipcMain.invoke('greenlight:updateSettings', app, arg)) as { error?: { code: string; message: string } };
      expect(ack.error, JSON.stringify(arg)).toMatchObject({ code: 'INVALID_INPUT' });
      expect(ack.error?.message, JSON.stringify(arg)).toContain(field);
    }
    expect(await ipcMain.invoke('greenlight:getSettings', app, { all: true })).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    expect(calls).toEqual([]);
  });

  it('rejects a malformed payload with INVALID_INPUT naming the field', async () => {
    const { ipcMain, app, calls } = setup();
    const cases: [string, unknown][] = [
      ['greenlight:decide', { requestId: 'req_1', decision: 'maybe' }],
      ['greenlight:decide', { requestId: '../../etc', decision: 'approve' }],
      ['greenlight:decide', 'approve everything'],
      ['greenlight:signIn', { hubUrl: 'file:///etc/passwd', token: 'x' }],
      ['greenlight:signIn', { hubUrl: 'http://hub', token: 'x', extra: 1 }],
      ['greenlight:submit', { action: 'deploy' }],
      ['greenlight:getSession', { unexpected: true }],
      ['greenlight:exportAudit', { query: '', format: 'xlsx' }],
      ['greenlight:decisionReport', { query: 'from=x'.repeat(1_000) }],
      ['greenlight:decisionReport', { query: '', since: '30d' }],
      ['greenlight:openExternal', {}],
    ];
    for (const [channel, arg] of cases) {
      const ack = await ipcMain.invoke(channel, app, arg);
      expect(ack, channel).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    }
    const ack = (await ipcMain.invoke('greenlight:decide', app, { requestId: 'req_1', decision: 'maybe' })) as { error: { message: string } };
    expect(ack.error.message).toContain('decision');
    expect(calls).toEqual([]);
  });

  it('a handler failure comes back as an error Ack with its code', async () => {
    const { ipcMain, app } = setup();
    expect(await ipcMain.invoke('greenlight:sync', app)).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'Sign in to a hub first.' } });
  });

  it('passes token calls through with the expiry read as seconds, and refuses one beyond a year', async () => {
    const { ipcMain, app, calls } = setup();
    await ipcMain.invoke('greenlight:listTokens', app);
    await ipcMain.invoke('greenlight:createToken', app, { name: 'ci', scopes: ['requests:read'], expiresIn: '90d' });
    await ipcMain.invoke('greenlight:revokeToken', app, { id: 'tok_0mx00000000abcdef' });
    expect(calls.map((call) => [call.method, call.arg])).toEqual([
      ['listTokens', undefined],
      ['createToken', { name: 'ci', scopes: ['requests:read'], expiresIn: 90 * 86_400 }],
      ['revokeToken', { id: 'tok_0mx00000000abcdef' }],
    ]);
    expect(await ipcMain.invoke('greenlight:createToken', app, { name: 'ci', scopes: ['requests:read'], expiresIn: '400d' })).toMatchObject({ error: { code: 'INVALID_INPUT' } });
  });

  it('passes valid user-admin calls through, with defaults filled and the email trimmed', async () => {
    const { ipcMain, app, calls } = setup();
    expect(await ipcMain.invoke('greenlight:listUsers', app)).toEqual({ data: [user] });
    await ipcMain.invoke('greenlight:createUser', app, { name: 'carol', roles: ['approver'], email: ' carol@example.com ' });
    await ipcMain.invoke('greenlight:updateUser', app, { name: 'bob', changes: { groups: ['sre', 'leads'], email: null } });
    await ipcMain.invoke('greenlight:disableUser', app, { name: 'bob' });
    await ipcMain.invoke('greenlight:enableUser', app, { name: 'bob' });
    await ipcMain.invoke('greenlight:setupStatus', app);
    expect(await ipcMain.invoke('greenlight:myChannels', app)).toMatchObject({ data: { channels: [{ channel: 'email', address: 'bob@example.com' }] } });
    expect(calls.map((call) => [call.method, call.arg])).toEqual([
      ['listUsers', undefined],
      ['createUser', { name: 'carol', roles: ['approver'], groups: [], email: 'carol@example.com', service: false }],
      ['updateUser', { name: 'bob', changes: { groups: ['sre', 'leads'], email: null } }],
      ['disableUser', { name: 'bob' }],
      ['enableUser', { name: 'bob' }],
      ['setupStatus', undefined],
      ['myChannels', undefined],
    ]);
  });

  it('rejects a malformed user-admin call with INVALID_INPUT naming the field, and a foreign sender with FORBIDDEN', async () => {
    const { ipcMain, app, calls } = setup();
    const cases: [string, unknown, string][] = [
      ['greenlight:createUser', { name: 'carol', roles: [] }, 'roles'],
      ['greenlight:createUser', { name: 'carol', roles: ['root'] }, 'roles.0'],
      ['greenlight:createUser', { name: 'carol', roles: ['approver'], email: 'carol' }, 'email'],
      ['greenlight:createUser', { name: 'greenlight', roles: ['approver'] }, 'reserved'],
      ['greenlight:createUser', { name: 'carol', roles: ['approver'], token: 'glt_mine' }, 'token'],
      ['greenlight:updateUser', { name: 'bob', changes: {} }, 'name at least one of email, roles or groups'],
      ['greenlight:updateUser', { name: 'bob', changes: { disabled: false } }, 'disabled'],
      ['greenlight:updateUser', { name: '../admin', changes: { roles: ['admin'] } }, 'name'],
      ['greenlight:updateUser', { name: 'bob', changes: { groups: ['a b'] } }, 'groups.0'],
      ['greenlight:disableUser', { name: '' }, 'name'],
      ['greenlight:enableUser', 'bob', ''],
      ['greenlight:listUsers', { all: true }, ''],
      ['greenlight:setupStatus', { verbose: true }, ''],
      ['greenlight:myChannels', { name: 'someone-else' }, ''],
    ];
    for (const [channel, arg, field] of cases) {
      const ack = (await ipcMain.invoke(channel, app, arg)) as { error?: { code: string; message: string } };
      expect(ack.error, `${channel} ${JSON.stringify(arg)}`).toMatchObject({ code: 'INVALID_INPUT' });
      expect(ack.error?.message, `${channel} ${JSON.stringify(arg)}`).toContain(field);
    }
    const stranger = { contents: new FakeWebContents(), url: 'app://greenlight/index.html' };
    expect(await ipcMain.invoke('greenlight:createUser', stranger, { name: 'carol', roles: ['admin'] })).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(await ipcMain.invoke('greenlight:listUsers', { ...app, subframe: true })).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(calls).toEqual([]);
  });
});
