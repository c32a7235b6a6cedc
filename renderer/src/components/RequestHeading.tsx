import type { GreenlightRequest } from '../../../protocol/request.js';
import { FlowBadges, RiskBadge, StatusBadge } from './Badges.js';

/** What is asked (action, resource) and where it stands (status, risk, flow), as a request's header. */
export function RequestHeading({ request, level, titleId, withEnvironment = false }: { request: GreenlightRequest; level: 2 | 3; titleId?: string; withEnvironment?: boolean }) {
  const Title = level === 2 ? 'h2' : 'h3';
  return (
    <header className="detail-head">
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
