import { useEffect, useState } from 'react';
import type { ChannelReach as Reach } from '../../../protocol/notifications.js';
import { getBridge } from '../store/actions.js';

/** What each channel is called here; a channel the hub adds later (Slack direct messages) shows by its own name until it gets one. */
const LABELS: Record<string, string> = {
  app: 'Greenlight app',
  email: 'Email',
  slack: 'Slack direct message',
  webhook: 'Webhooks',
};

type Loaded = { state: 'loading' } | { state: 'failed'; message: string } | { state: 'loaded'; channels: Reach[] };

/** Which channels bring the signed-in user the requests they may decide, as the hub sees it now. */
export function ChannelReach() {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    getBridge()
      .myChannels()
      .then((answer) => live && setLoaded({ state: 'loaded', channels: answer.channels }))
      .catch((error: unknown) => live && setLoaded({ state: 'failed', message: error instanceof Error ? error.message : 'The hub did not answer.' }));
    return () => {
      live = false;
    };
  }, []);

  return (
    <section className="card settings-section" aria-labelledby="settings-reach">
      <h3 id="settings-reach">Where requests reach you</h3>
      {loaded.state === 'loading' ? (
        <p className="muted" aria-busy="true">
          Asking the hub…
        </p>
      ) : loaded.state === 'failed' ? (
        <p role="alert">Cannot tell which channels reach you: {loaded.message}</p>
      ) : (
        <ul className="reach-list" aria-label="Channels">
          {loaded.channels.map((channel) => (
            <li key={channel.channel} data-channel={channel.channel} className={channel.reaches ? 'reach on' : 'reach off'}>
              <strong>{LABELS[channel.channel] ?? channel.channel}</strong>{' '}
              <span className="reach-state">{channel.reaches ? 'reaches you' : 'does not reach you'}</span>
              {channel.address && (
                <>
                  {' '}
                  at <span className="mono">{channel.address}</span>
                </>
              )}
              <p className="muted">{channel.detail}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
