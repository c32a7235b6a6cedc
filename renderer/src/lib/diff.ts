export type DiffRowKind = 'file' | 'hunk' | 'add' | 'del' | 'context' | 'note';

export interface DiffRow {
  kind: DiffRowKind;
  /** Line number in the old file (removed and context lines). */
  oldLine: number | null;
  /** Line number in the new file (added and context lines). */
  newLine: number | null;
  text: string;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/;

/**
 * Turns a unified diff into rows a person can read: file headers, hunk headers, and
 * added/removed/context lines with their old and new line numbers. Text that is not a
 * diff comes back as context rows, so nothing a requester attached is hidden.
 */
export function parseUnifiedDiff(diff: string): DiffRow[] {
  const rows: DiffRow[] = [];
  let oldLine = 0;
  let newLine = 0;
  let inHunk = false;
  /** Lines the hunk header announced and not yet seen: until they are, "--- x" is a removed "-- x", not a file header. */
  let oldLeft = 0;
  let newLeft = 0;
  const lines = diff.replace(/\r\n/g, '\n').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  for (const line of lines) {
    const hunk = HUNK.exec(line);
    if (hunk) {
      oldLine = Number(hunk[1]);
      newLine = Number(hunk[3]);
      oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
      inHunk = true;
      rows.push({ kind: 'hunk', oldLine: null, newLine: null, text: line });
      continue;
    }
    const announced = inHunk && (oldLeft > 0 || newLeft > 0);
    if (!announced && (line.startsWith('diff --git ') || line.startsWith('Index: '))) {
      inHunk = false;
      rows.push({ kind: 'file', oldLine: null, newLine: null, text: line });
      continue;
    }
    if (!inHunk || (!announced && (line.startsWith('--- ') || line.startsWith('+++ ')))) {
      if (line.startsWith('--- ') || line.startsWith('+++ ')) {
        inHunk = false;
        rows.push({ kind: 'file', oldLine: null, newLine: null, text: line });
      } else if (/^(index |new file mode|deleted file mode|similarity index|rename (from|to) |old mode|new mode|Binary files)/.test(line)) {
        rows.push({ kind: 'note', oldLine: null, newLine: null, text: line });
      } else {
        rows.push({ kind: 'context', oldLine: null, newLine: null, text: line });
      }
      continue;
    }
    const marker = line[0];
    const body = line.slice(1);
    if (marker === '+') {
      newLeft--;
      rows.push({ kind: 'add', oldLine: null, newLine: newLine++, text: body });
    } else if (marker === '-') {
      oldLeft--;
      rows.push({ kind: 'del', oldLine: oldLine++, newLine: null, text: body });
    } else if (marker === '\\') {
      rows.push({ kind: 'note', oldLine: null, newLine: null, text: line });
    } else {
      oldLeft--;
      newLeft--;
      // A context line; an empty line inside a hunk is context whose leading space was trimmed.
      rows.push({ kind: 'context', oldLine: oldLine++, newLine: newLine++, text: marker === ' ' ? body : line });
    }
  }
  return rows;
}

export function diffStats(rows: DiffRow[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const row of rows) {
    if (row.kind === 'add') added++;
    else if (row.kind === 'del') removed++;
  }
  return { added, removed };
}
