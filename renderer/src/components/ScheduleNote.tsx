import type { GreenlightRequest } from '../../../protocol/request.js';
import { accessTimes, offsetLabel, scheduleLine } from '../lib/schedule.js';
import { formatTime } from '../lib/time.js';

/** "starts in 7 h · runs 23:00–01:00" for a request with a scheduled start; nothing for one that starts on approval. */
export function ScheduleNote({ request, now }: { request: GreenlightRequest; now: number }) {
  const line = scheduleLine(request, now);
  const times = accessTimes(request, now);
  if (!line || !times) return null;
  return (
    <span className="schedule small" data-testid="schedule" title={`${formatTime(times.start)} – ${formatTime(times.end)} (${offsetLabel(new Date(times.start))})`}>
      {line}
    </span>
  );
}
