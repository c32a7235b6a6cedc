/**
 * The app's fetch, except that each revoke (a DELETE) is held at it, a stand-in at the edge only, until
 * `release` is called or the app gives up on it. `happened` records which: 'revoke sent', or 'the app
 * gave up on the revoke' (its own timeout aborted the request).
 */
export function revokesHeld(happened: string[], inner: typeof fetch = fetch): { fetch: typeof fetch; release: () => void } {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const holding: typeof fetch = async (input, init) => {
    if (init?.method !== 'DELETE') return inner(input, init);
    const gaveUp = new Promise<never>((_, reject) =>
      init.signal?.addEventListener('abort', () => {
        happened.push('the app gave up on the revoke');
        reject(new Error('aborted'));
      }),
    );
    await Promise.race([released, gaveUp]);
    happened.push('revoke sent');
    return inner(input, init);
  };
  return { fetch: holding, release };
}
