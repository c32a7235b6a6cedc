import { useMemo, useState } from 'react';
import { hasDirectionControls } from '../../../protocol/misleading-text.js';
import { diffStats, parseUnifiedDiff } from '../lib/diff.js';
import { DirectionWarning, Revealed } from './Revealed.js';

const FIRST_ROWS = 1_500;

/** A unified diff with line numbers and coloured added/removed lines; long diffs open in steps. */
export function DiffView({ diff }: { diff: string }) {
  const rows = useMemo(() => parseUnifiedDiff(diff), [diff]);
  const stats = useMemo(() => diffStats(rows), [rows]);
  const [showAll, setShowAll] = useState(false);
  const visible = showAll ? rows : rows.slice(0, FIRST_ROWS);
  return (
    <div className="diff" data-testid="diff">
      {hasDirectionControls(diff) && <DirectionWarning />}
      <p className="diff-stats small">
        <span className="added">+{stats.added}</span> <span className="removed">−{stats.removed}</span>
      </p>
      <div className="diff-scroll" tabIndex={0} role="region" aria-label="Diff">
        <table className="diff-table">
          <tbody>
            {visible.map((row, index) => (
              <tr key={index} className={`diff-${row.kind}`}>
                <td className="ln" aria-hidden="true">
                  {row.oldLine ?? ''}
                </td>
                <td className="ln" aria-hidden="true">
                  {row.newLine ?? ''}
                </td>
                <td className="code">
                  <span className="sign" aria-label={row.kind === 'add' ? 'added' : row.kind === 'del' ? 'removed' : undefined}>
                    {row.kind === 'add' ? '+' : row.kind === 'del' ? '−' : ' '}
                  </span>
                  <Revealed text={row.text} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!showAll && rows.length > FIRST_ROWS && (
        <button type="button" className="link-button" onClick={() => setShowAll(true)}>
          Show all {rows.length} lines
        </button>
      )}
    </div>
  );
}
