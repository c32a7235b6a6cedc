import { useEffect } from 'react';
import { dismissNotice } from '../store/actions.js';
import { useStore } from '../store/store.js';

export function NoticeBar() {
  const notice = useStore((state) => state.notice);
  useEffect(() => {
    if (!notice || notice.kind === 'error') return;
    const timer = setTimeout(dismissNotice, 4_000);
    return () => clearTimeout(timer);
  }, [notice]);
  return (
    <div className="notice-region" aria-live="polite">
      {notice && (
        <div className={`notice notice-${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
          <span>{notice.text}</span>
          <button type="button" className="link-button" onClick={dismissNotice} aria-label="Dismiss message">
            ×
          </button>
        </div>
      )}
    </div>
  );
}
