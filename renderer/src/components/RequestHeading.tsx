import type { GreenlightRequest } from '../../../protocol/request.js';
import { FlowBadges, RiskBadge, StatusBadge } from './Badges.js';

/** What is asked (action, resource) and where it stands (status, risk, flow), as a request's header. */
/** `sticky` keeps it at the top of a scrolling pane (the inbox detail), so the title stays in view while deciding. */
export function RequestHeading({ request, level, titleId, withEnvironment = false, sticky = false }: { request: GreenlightRequest; level: 2 | 3; titleId?: string; withEnvironment?: boolean; sticky?: boolean }) {
  const Title = level === 2 ? 'h2' : 'h3';
  return (
    <header className={sticky ? 'detail-head sticky' : 'detail-head'}>
      <Title id={titleId}>
        {request.action} <span className="mono">{request.resource}</span>
        {withEnvironment && (
          <>
            {' '}
            <span className="muted">· {request.environment}</span>
          </>
        )}
      </Title>
      <div className="badges">
        <StatusBadge request={request} />
        <RiskBadge risk={request.risk} />
        <FlowBadges request={request} />
      </div>
    </header>
  );
}
