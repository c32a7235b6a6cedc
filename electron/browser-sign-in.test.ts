import { describe, expect, it } from 'vitest';
import { BrowserSignIn } from './browser-sign-in.js';

/** A sign-in that waits until cancelled, recording whether it was already cancelled when it began. */
function waitingSignIn(started: { name: string; cancelledAtStart: boolean }[], name: string) {
  return (signal: AbortSignal) => {
    started.push({ name, cancelledAtStart: signal.aborted });
    return new Promise<string>((_, reject) => {
      if (signal.aborted) reject(new Error(`${name} cancelled`));
      signal.addEventListener('abort', () => reject(new Error(`${name} cancelled`)), { once: true });
    });
  };
}

describe('one sign-in through the browser at a time', () => {
  it('a sign-in waiting, then two started at once: the waiting one and the middle one end cancelled, the middle one before it began, and only the last goes on', async () => {
    const slot = new BrowserSignIn();
    const started: { name: string; cancelledAtStart: boolean }[] = [];
    let began: () => void = () => undefined;
    const firstBegan = new Promise<void>((resolve) => (began = resolve));
    const first = slot.run((signal) => {
      began();
      return waitingSignIn(started, 'first')(signal);
    });
    await firstBegan;
    const outcomes = [
      first,
      slot.run(waitingSignIn(started, 'second')),
      slot.run(async (signal) => {
        started.push({ name: 'third', cancelledAtStart: signal.aborted });
        return 'third signed in';
      }),
    ].map((outcome) => outcome.catch((error: Error) => error.message));
    expect(await Promise.all(outcomes)).toEqual(['first cancelled', 'second cancelled', 'third signed in']);
    expect(started).toEqual([
      { name: 'first', cancelledAtStart: false },
      { name: 'second', cancelledAtStart: true },
      { name: 'third', cancelledAtStart: false },
    ]);
    expect(await slot.cancel()).toBe(false);
  });

  it('a sign-in that ended by itself leaves nothing to cancel', async () => {
    const slot = new BrowserSignIn();
    expect(await slot.run(async () => 'signed in')).toBe('signed in');
    expect(await slot.cancel()).toBe(false);
  });
});
