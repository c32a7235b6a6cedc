import { describe, expect, it } from 'vitest';
import { HubErrands } from './hub-errands.js';
import { quitAfterErrands } from './quit-after-errands.js';

/** A before-quit event as Electron hands it (fake: Electron can't run here). */
const quitEvent = () => {
  const event = { prevented: false, preventDefault: () => void (event.prevented = true) };
  return event;
};

/** A promise this test settles itself. */
function held() {
  let release = () => {};
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

describe('quitting while a session is still being ended at the hub (fake Electron quit event)', () => {
  it('quits at once when nothing is being ended', () => {
    const quits: string[] = [];
    const onBeforeQuit = quitAfterErrands({ errands: new HubErrands(), quit: () => quits.push('quit') });
    const event = quitEvent();
    expect(onBeforeQuit(event)).toBe(false);
    expect(event.prevented).toBe(false);
    expect(quits).toEqual([]);
  });

  it('puts the quit off until the session is ended, then quits, and lets that quit through', async () => {
    const errands = new HubErrands();
    const revoke = held();
    errands.start('ending a session signed out of', () => revoke.promise);
    const quit = held();
    const onBeforeQuit = quitAfterErrands({ errands, quit: quit.release, wait: () => new Promise(() => {}) });
    const first = quitEvent();
    expect(onBeforeQuit(first)).toBe(true);
    expect(first.prevented).toBe(true);
    revoke.release();
    await quit.promise;
    const second = quitEvent();
    expect(onBeforeQuit(second)).toBe(false);
    expect(second.prevented).toBe(false);
  });

  it('quits after its wait when the hub never answers', async () => {
    const errands = new HubErrands();
    errands.start('ending a session signed out of', () => new Promise(() => {}));
    const waited: number[] = [];
    const bound = held();
    const quit = held();
    const onBeforeQuit = quitAfterErrands({ errands, quit: quit.release, wait: (ms) => (waited.push(ms), bound.promise) });
    expect(onBeforeQuit(quitEvent())).toBe(true);
    bound.release();
    await quit.promise;
    expect(waited).toEqual([3_000]);
    expect(errands.busy).toBe(true);
  });
});
