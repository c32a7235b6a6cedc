import type { BaseWindow, Dialog, FileFilter } from 'electron';
import path from 'node:path';
import type { AuditExportOutcome } from '../protocol/desktop-api.js';
import { GreenlightError } from '../protocol/errors.js';
import type { HubHttp } from '../protocol/hub-http.js';
import { writeExportFile, type ExportFormat } from './audit-export-file.js';

export interface AuditExportDeps {
  hubHttp: Pick<HubHttp, 'exportAudit'>;
  dialog: Pick<Dialog, 'showSaveDialog'>;
  /** The app's window, so the dialog is modal to it; null when there is none to attach it to. */
  window: () => BaseWindow | null;
  /** Where the dialog opens (the user's Downloads folder). */
  defaultFolder: () => string;
}

const FILTERS: Record<ExportFormat, FileFilter[]> = {
  csv: [{ name: 'CSV', extensions: ['csv'] }],
  jsonl: [{ name: 'JSON lines', extensions: ['jsonl'] }],
};

/** The hub's file name as a name in the chosen folder: no folder part, nothing a file system refuses. */
export function safeFileName(name: string, format: ExportFormat): string {
  // eslint-disable-next-line no-control-regex -- control characters are among what file systems refuse
  const cleaned = path.basename(name.replace(/\\/g, '/')).replace(/[<>:"|?*\u0000-\u001f]/g, '-').trim();
  return cleaned && cleaned !== '.' && cleaned !== '..' ? cleaned : `greenlight-audit.${format}`;
}

/**
 * The desktop export: the hub's answer is opened first (so a refusal shows before any dialog, and the
 * dialog offers the hub's file name), then main asks where to save and streams the body into that
 * file. The renderer gets only where it went, or that the person cancelled.
 */
export function createAuditExport(deps: AuditExportDeps) {
  return async ({ query, format }: { query: string; format: ExportFormat }): Promise<AuditExportOutcome> => {
    const { filename, response } = await deps.hubHttp.exportAudit(query, format);
    const options = { title: 'Export the audit log', defaultPath: path.join(deps.defaultFolder(), safeFileName(filename, format)), filters: FILTERS[format] };
    let chosen: string | undefined;
    try {
      const window = deps.window();
      const answer = window ? await deps.dialog.showSaveDialog(window, options) : await deps.dialog.showSaveDialog(options);
      chosen = answer.canceled ? undefined : answer.filePath;
    } finally {
      // Nothing will read the body: let the hub stop sending it.
      if (!chosen) await response.body?.cancel().catch(() => undefined);
    }
    if (!chosen) return { outcome: 'cancelled' };
    if (!response.body) throw new GreenlightError('INTERNAL', 'The hub answered the export with nothing to save. Try again.');
    const { events } = await writeExportFile(response.body, chosen, format);
    return { outcome: 'saved', path: chosen, events };
  };
}

export type AuditExport = ReturnType<typeof createAuditExport>;
