import { describe, expect, it } from 'vitest';
import { exportMessage } from './export-message.js';

describe('what the history view says after an export', () => {
  it('names the saved file and how many events it holds, the download the browser took over, and nothing after a cancel', () => {
    const saved = exportMessage({ outcome: 'saved', path: '/home/ada/Downloads/greenlight-audit.csv', events: 1_234_567 });
    expect(saved).toBe(`Exported ${(1_234_567).toLocaleString()} events to /home/ada/Downloads/greenlight-audit.csv.`);
    expect(exportMessage({ outcome: 'saved', path: '/tmp/one.jsonl', events: 1 })).toBe('Exported 1 event to /tmp/one.jsonl.');
    expect(exportMessage({ outcome: 'downloading', filename: 'greenlight-audit-2026.csv' })).toBe('Exporting the audit log as greenlight-audit-2026.csv.');
    expect(exportMessage({ outcome: 'cancelled' })).toBeNull();
  });
});
