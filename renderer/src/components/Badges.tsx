import type { GreenlightRequest, Risk } from '../../../protocol/request.js';
import { describeProgress } from '../../../protocol/quorum.js';
import { describeOutcome } from '../store/requests-model.js';

export function RiskBadge({ risk }: { risk: Risk }) {
  return (
    <span className={`badge risk-${risk}`} data-risk={risk}>
      {risk} risk
    </span>
  );
}

export function StatusBadge({ request }: { request: GreenlightRequest }) {
  return (
    <span className={`badge status-${request.status}`} data-testid="status">
      {request.status === 'pending' ? 'pending' : describeOutcome(request)}
    </span>
  );
}

/** Escalated and claimed markers, shown wherever a pending request is listed. */
export function FlowBadges({ request }: { request: GreenlightRequest }) {
  return (
    <>
      {request.escalationLevel > 0 && request.status === 'pending' && (
        <span className="badge escalated" title={`escalation level ${request.escalationLevel}`}>
          escalated
        </span>
      )}
      {request.claim && request.status === 'pending' && <span className="badge claimed">claimed by {request.claim.by}</span>}
    </>
  );
}

export function Votes({ request }: { request: GreenlightRequest }) {
  if (request.rule.autoApprove) {
    return (
      <span className="votes" data-testid="votes">
        <span className="muted">no approval needed (policy {request.rule.name})</span>
      </span>
    );
  }
  if (request.quorum) {
    return (
      <span className="votes" data-testid="votes">
        {describeProgress(request.quorum)}
      </span>
    );
  }
  const needed = request.rule.minApprovals;
  return (
    <span className="votes" data-testid="votes">
      {request.approvals} of {needed}
      <span className="muted"> approval{needed === 1 ? '' : 's'}</span>
    </span>
  );
}

/** Per-line progress of a `require:` rule, shown in the inbox row: "sre 1/1 · security 0/1". */
export function QuorumBadge({ request }: { request: GreenlightRequest }) {
  if (!request.quorum) return null;
  return (
    <span className="badge quorum" data-testid="quorum">
      {describeProgress(request.quorum)}
    </span>
  );
}
