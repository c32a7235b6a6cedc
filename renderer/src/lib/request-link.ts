import { requestIdSchema } from '../../../protocol/index.js';

/** The request a link into the console names (`/?request=<id>`, as chat messages link), or null. */
export function requestIdFromLink(search: string): string | null {
  const id = new URLSearchParams(search).get('request');
  if (id === null) return null;
  const parsed = requestIdSchema.safeParse(id);
  return parsed.success ? parsed.data : null;
}
