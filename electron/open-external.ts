import { safeHttpUrl } from '../protocol/urls.js';

/** Hands a URL to the OS only when it is http(s); anything else (file:, javascript:, custom schemes) is refused. */
export async function openExternalUrl(value: unknown, open: (url: string) => Promise<void>): Promise<boolean> {
  const url = safeHttpUrl(value);
  if (url === null) return false;
  await open(url);
  return true;
}
