/** Hands a URL to the OS only when it is http(s); anything else (file:, javascript:, custom schemes) is refused. */
export async function openExternalUrl(value: unknown, open: (url: string) => Promise<void>): Promise<boolean> {
  if (typeof value !== 'string') return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  await open(url.href);
  return true;
}
