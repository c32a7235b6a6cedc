import type { RequestContext } from '../../../protocol/request.js';
import { safeHttpUrl } from '../../../protocol/urls.js';
import { getBridge } from '../store/actions.js';
import { hasDirectionControls } from '../../../protocol/misleading-text.js';
import { DiffView } from './DiffView.js';
import { DirectionWarning, Revealed } from './Revealed.js';

function openLink(url: string): void {
  const safe = safeHttpUrl(url);
  if (safe) void getBridge().openExternal(safe);
}

/** What the requester attached so an approver can decide: summary, diff, logs, links, fields. */
export function ContextPanel({ context }: { context: RequestContext }) {
  const links = context.links ?? [];
  const fields = Object.entries(context.fields ?? {});
  return (
    <>
      {context.summary && (
        <section>
          <h3>Summary</h3>
          <p className="summary">{context.summary}</p>
        </section>
      )}
      {context.diff && (
        <section aria-labelledby="diff-title">
          <h3 id="diff-title">Changes</h3>
          <DiffView diff={context.diff} />
        </section>
      )}
      {context.logs && (
        <section aria-labelledby="logs-title">
          <h3 id="logs-title">Logs</h3>
          {hasDirectionControls(context.logs) && <DirectionWarning />}
          <pre className="logs" data-testid="logs" tabIndex={0} aria-labelledby="logs-title">
            <Revealed text={context.logs} />
          </pre>
        </section>
      )}
      {links.length > 0 && (
        <section>
          <h3>Links</h3>
          <ul className="links">
            {links.map((link) => {
              const safe = safeHttpUrl(link.url);
              return (
                <li key={`${link.title}-${link.url}`}>
                  {safe ? (
                    <a
                      href={safe}
                      target="_blank"
                      rel="noopener noreferrer"
                      onClick={(event) => {
                        event.preventDefault();
                        openLink(safe);
                      }}
                    >
                      {link.title}
                    </a>
                  ) : (
                    <span title="Not an http(s) link; not opened">{link.title} (blocked link)</span>
                  )}
                  {/* Where it really goes: the parsed address, its host in ASCII (a lookalike letter shows as xn--…). */}
                  <span className="muted mono small" data-testid="link-destination"> {safe ?? link.url}</span>
                </li>
              );
            })}
          </ul>
        </section>
      )}
      {fields.length > 0 && (
        <section>
          <h3>Details</h3>
          <dl className="fields">
            {fields.map(([key, value]) => (
              <div key={key}>
                <dt className="mono">{key}</dt>
                <dd>{value}</dd>
              </div>
            ))}
          </dl>
        </section>
      )}
    </>
  );
}
