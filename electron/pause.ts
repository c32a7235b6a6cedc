export type PauseChoice = '1h' | 'tomorrow';

/** When a pause chosen now ends: in one hour, or at 08:00 local time tomorrow. */
export function pauseUntil(choice: PauseChoice, now: Date): Date {
  if (choice === '1h') return new Date(now.getTime() + 3600_000);
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 8, 0, 0, 0);
  return tomorrow;
}

export function isPaused(pausedUntil: string | null, now: Date): boolean {
  return pausedUntil !== null && Date.parse(pausedUntil) > now.getTime();
}

/** "19:30", or "tomorrow 08:00" when the pause ends on another day. */
export function formatPauseEnd(until: Date, now: Date): string {
  const time = `${String(until.getHours()).padStart(2, '0')}:${String(until.getMinutes()).padStart(2, '0')}`;
  return until.toDateString() === now.toDateString() ? time : `tomorrow ${time}`;
}
