import type { ExportResult } from '../bridge/bridge.js';

/** What to tell the person once an export is out of the app's hands; nothing after a cancel. */
export function exportMessage(result: ExportResult): string | null {
  if (result.outcome === 'cancelled') return null;
  if (result.outcome === 'downloading') return `Exporting the audit log as ${result.filename}.`;
  const events = `${result.events.toLocaleString()} ${result.events === 1 ? 'event' : 'events'}`;
  return `Exported ${events} to ${result.path}.`;
}
