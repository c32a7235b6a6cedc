export type PauseChoice = '1h' | 'tomorrow';

/** When a pause chosen now ends: in one hour, or at 08:00 local time tomorrow (as the tray menu does). */
export function pauseEnd(choice: PauseChoice, now: Date): Date {
  if (choice === '1h') return new Date(now.getTime() + 3600_000);
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 8, 0, 0, 0);
}

/** The pause's end as a person reads it: "19:30", or "tomorrow 08:00" when it ends on another day. */
export function pauseEndText(until: string, now: Date): string {
  const end = new Date(until);
  const time = `${String(end.getHours()).padStart(2, '0')}:${String(end.getMinutes()).padStart(2, '0')}`;
  return end.toDateString() === now.toDateString() ? time : `tomorrow ${time}`;
}

/** Whether a pause is still running at `now`; an ended pause is no pause. */
export function isPaused(until: string | null, now: Date): until is string {
  return until !== null && Date.parse(until) > now.getTime();
}
