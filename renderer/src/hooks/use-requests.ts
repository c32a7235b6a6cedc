import { useMemo } from 'react';
import type { GreenlightRequest } from '../../../protocol/request.js';
import { selectInbox, selectMine } from '../store/requests-model.js';
import { useStore } from '../store/store.js';

export function useInbox(): GreenlightRequest[] {
  const byId = useStore((state) => state.requests.byId);
  const me = useStore((state) => state.me);
  return useMemo(() => selectInbox(byId, me), [byId, me]);
}

export function useMine(): GreenlightRequest[] {
  const byId = useStore((state) => state.requests.byId);
  const me = useStore((state) => state.me);
  return useMemo(() => selectMine(byId, me), [byId, me]);
}

export function useRequest(id: string | null): GreenlightRequest | null {
  return useStore((state) => (id ? (state.requests.byId[id] ?? null) : null));
}
