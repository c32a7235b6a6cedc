import type { App } from 'electron';

/**
 * Takes the single-instance lock. Returns false in a second launch, which should quit at once;
 * the first instance runs `onSecondLaunch` (show its window) instead.
 */
export function acquireSingleInstance(app: Pick<App, 'requestSingleInstanceLock' | 'on'>, onSecondLaunch: () => void): boolean {
  if (!app.requestSingleInstanceLock()) return false;
  app.on('second-instance', () => onSecondLaunch());
  return true;
}
