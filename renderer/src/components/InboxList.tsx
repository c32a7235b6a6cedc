import { useEffect, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { GreenlightRequest } from '../../../protocol/request.js';
import { useNow } from '../hooks/use-now.js';
import { moveSelection, selectRequest } from '../store/actions.js';
import { FlowBadges, QuorumBadge, RiskBadge } from './Badges.js';
import { Deadline } from './Deadline.js';
import { ScheduleNote } from './ScheduleNote.js';

/** A row's usual height; rows whose badges wrap onto a second line are measured as they render. */
const ROW_HEIGHT = 84;

/** The inbox as a virtualised list: only the rows on screen are in the DOM, so thousands stay smooth. */
export function InboxList({ requests, selectedId }: { requests: GreenlightRequest[]; selectedId: string | null }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const now = useNow();
  const virtualizer = useVirtualizer({
    count: requests.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 6,
    getItemKey: (index) => requests[index]?.id ?? index,
  });
  const selectedIndex = selectedId ? requests.findIndex((request) => request.id === selectedId) : -1;
  useEffect(() => {
    if (selectedIndex < 0) return;
    virtualizer.scrollToIndex(selectedIndex, { align: 'auto' });
    // Keep keyboard focus on the selected row when the user is moving through the list with arrows.
    const list = scrollRef.current;
    if (list && list.contains(document.activeElement) && selectedId) {
      requestAnimationFrame(() => document.getElementById(`row-${selectedId}`)?.focus({ preventScroll: true }));
    }
  }, [selectedIndex, selectedId, virtualizer]);

  return (
    <div
      className="list-scroll"
      ref={scrollRef}
      onKeyDown={(event) => {
        if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
        event.preventDefault();
        moveSelection(event.key === 'ArrowDown' ? 1 : -1);
      }}
    >
      <div
        role="listbox"
        aria-label="Requests waiting on you"
        aria-activedescendant={selectedIndex >= 0 ? `row-${selectedId}` : undefined}
        style={{ height: virtualizer.getTotalSize(), position: 'relative' }}
      >
        {virtualizer.getVirtualItems().map((item) => {
          const request = requests[item.index];
          if (!request) return null;
          const selected = request.id === selectedId;
          return (
            <div
              key={item.key}
              id={`row-${request.id}`}
              role="option"
              aria-selected={selected}
              tabIndex={selected || (selectedIndex < 0 && item.index === 0) ? 0 : -1}
              className="row"
              data-request-id={request.id}
              data-index={item.index}
              ref={virtualizer.measureElement}
              style={{ transform: `translateY(${item.start}px)` }}
              onClick={() => selectRequest(request.id)}
              onKeyDown={(event) => {
                if (event.key === 'Enter' || event.key === ' ') {
                  event.preventDefault();
                  selectRequest(request.id);
                }
              }}
            >
              <div className="row-title">
                {request.breakGlass && <span className="badge status-denied">{request.breakGlass.review === 'overdue' ? 'Review break-glass · overdue' : 'Review break-glass'}</span>}{' '}
                <strong>{request.action}</strong> <span className="mono">{request.resource}</span>{' '}
                <span className="muted">· {request.environment}</span>
              </div>
              <div className="row-reason muted">
                {request.requester}: {request.reason}
              </div>
              <div className="row-meta">
                <RiskBadge risk={request.risk} />
                <FlowBadges request={request} />
                <QuorumBadge request={request} />
                <Deadline request={request} now={now} compact />
                <ScheduleNote request={request} now={now} />
              </div>
            </div>
          );
        })}
      </div>
    </div>
  );
}
