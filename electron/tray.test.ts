import { beforeEach, describe, expect, it } from 'vitest';
import type { DesktopSession } from '../protocol/desktop-api.js';
import { TrayService, type TrayActions } from './tray.js';
import { trayStateFrom, type TrayState } from './tray-state.js';
import { clickItem, FakeTray, menuItem } from './test/electron-fakes.js';
import { aRequest, ME } from './test/fixtures.js';

const connected: DesktopSession = { hubUrl: 'http://hub', signedIn: true, state: 'connected', error: null };

function setup() {
  const calls: string[] = [];
  const actions: TrayActions = {
    openRequest: (id) => calls.push(`open:${id}`),
    openApp: () => calls.push('openApp'),
    pause: (choice) => calls.push(`pause:${choice}`),
    resume: () => calls.push('resume'),
    quit: () => calls.push('quit'),
  };
  const tray = new TrayService({
    createTray: (image: string) => new FakeTray(image),
    buildMenu: (template) => template,
    loadImage: (path) => path,
    iconPath: (status, theme) => `assets/tray/${status}-${theme}.png`,
    actions,
  });
  return { tray, calls, fake: () => FakeTray.created[0] as FakeTray };
}

function state(overrides: Partial<Parameters<typeof trayStateFrom>[0]> = {}): TrayState {
  return trayStateFrom({ session: connected, inbox: [], me: ME, pausedUntil: null, theme: 'light', ...overrides });
}

beforeEach(() => {
  FakeTray.created = [];
});

describe('tray with Electron fakes', () => {
  it('idle: idle icon, says nothing waits, menu has open / pause / quit', () => {
    const { tray, fake } = setup();
    tray.render(state());
    expect(fake().image).toBe('assets/tray/idle-light.png');
    expect(fake().toolTip).toBe('Greenlight — Nothing waiting on you');
    expect(fake().menu?.map((item) => item.label ?? item.type)).toEqual([
      'Nothing waiting on you',
      'separator',
      'Open Greenlight',
      'Pause notifications',
      'separator',
      'Quit Greenlight',
    ]);
  });

  it('pending: pending icon, count in the tooltip, one menu item per request that opens it', () => {
    const { tray, fake, calls } = setup();
    const first = aRequest({ risk: 'high' });
    const second = aRequest({ action: 'migrate', resource: 'orders-db' });
    tray.render(state({ inbox: [first, second], theme: 'dark' }));
    expect(fake().image).toBe('assets/tray/pending-dark.png');
    expect(fake().toolTip).toBe('Greenlight — 2 requests waiting on you');
    clickItem(menuItem(fake().menu, 'migrate orders-db → production'));
    expect(calls).toEqual([`open:${second.id}`]);
  });

  it('escalated to me: escalated icon and the item says so', () => {
    const { tray, fake } = setup();
    const lead = { name: 'carol', groups: ['leads'], roles: ['lead' as const] };
    const request = aRequest({ escalationLevel: 1, eligibleGroups: ['approvers', 'leads'] });
    tray.render(state({ inbox: [request], me: lead }));
    expect(fake().image).toBe('assets/tray/escalated-light.png');
    expect(fake().toolTip).toBe('Greenlight — 1 request waiting on you (1 escalated)');
    expect(menuItem(fake().menu, 'Escalated: deploy payments-api → production')).toBeDefined();
  });

  it.each([
    ['reconnecting', 'Reconnecting to the hub…'],
    ['signed-out', 'Signed out'],
    ['unreachable', 'Hub unreachable'],
  ] as const)('disconnected (%s): disconnected icon, the reason in tooltip and menu, no stale requests', (connection, text) => {
    const { tray, fake } = setup();
    const session: DesktopSession = { ...connected, state: connection, signedIn: connection !== 'signed-out' };
    tray.render(state({ session, inbox: [aRequest()] }));
    expect(fake().image).toBe('assets/tray/disconnected-light.png');
    expect(fake().toolTip).toBe(`Greenlight — ${text}`);
    expect(fake().menu?.[0]).toEqual({ label: text, enabled: false });
  });

  it('lists at most 10 requests and points to the app for the rest', () => {
    const { tray, fake, calls } = setup();
    const inbox = Array.from({ length: 13 }, (_, i) => aRequest({ action: `job${i}` }));
    tray.render(state({ inbox }));
    expect(fake().toolTip).toBe('Greenlight — 13 requests waiting on you');
    const items = fake().menu ?? [];
    expect(items.slice(0, 10).every((item) => item.label?.startsWith('job'))).toBe(true);
    clickItem(menuItem(items, '3 more in Greenlight…'));
    expect(calls).toEqual(['openApp']);
  });

  it('pause menu: 1 hour, until tomorrow, resume (enabled only while paused), and quit', () => {
    const { tray, fake, calls } = setup();
    tray.render(state());
    expect(menuItem(fake().menu, 'Resume notifications')?.enabled).toBe(false);
    clickItem(menuItem(fake().menu, 'For 1 hour'));
    clickItem(menuItem(fake().menu, 'Until tomorrow'));
    clickItem(menuItem(fake().menu, 'Open Greenlight'));
    clickItem(menuItem(fake().menu, 'Quit Greenlight'));
    tray.render(state({ pausedUntil: '19:30' }));
    expect(fake().toolTip).toBe('Greenlight — Nothing waiting on you · notifications paused until 19:30');
    expect(menuItem(fake().menu, 'Notifications paused until 19:30')).toBeDefined();
    clickItem(menuItem(fake().menu, 'Resume notifications'));
    expect(calls).toEqual(['pause:1h', 'pause:tomorrow', 'openApp', 'quit', 'resume']);
  });

  it('render is idempotent: one tray, and an unchanged state touches nothing', () => {
    const { tray, fake } = setup();
    const request = aRequest();
    tray.render(state({ inbox: [request] }));
    const before = fake().calls.length;
    tray.render(state({ inbox: [request] }));
    expect(FakeTray.created).toHaveLength(1);
    expect(fake().calls).toHaveLength(before);
    tray.render(state());
    expect(FakeTray.created).toHaveLength(1);
    expect(fake().image).toBe('assets/tray/idle-light.png');
  });

  it('clicking the tray icon opens the app', () => {
    const { tray, fake, calls } = setup();
    tray.render(state());
    fake().click();
    expect(calls).toEqual(['openApp']);
  });
});
