import type { SetupStatus } from '../../../protocol/setup.js';

type Cluster = NonNullable<SetupStatus['cluster']>;

/** For an admin whose hub shares its database with hubs running another policy: which, and what to do. */
export function PolicyMismatch({ cluster, ownDigest }: { cluster: Cluster; ownDigest: string | undefined }) {
  const differing = cluster.hubs.filter((hub) => !hub.samePolicy);
  if (!cluster.policyWarning || differing.length === 0) return null;
  return (
    <section className="policy-mismatch" aria-labelledby="policy-mismatch-title">
      <h2 id="policy-mismatch-title">Hubs run different policies</h2>
      <p>
        This hub runs policy <code>{ownDigest ?? 'unknown'}</code>; {differing.length === 1 ? 'another hub on the same database runs a different one' : 'other hubs on the same database run different ones'}:
      </p>
      <ul>
        {differing.map((hub, index) => (
          // By id: hubs behind one public URL show the same address.
          <li key={hub.hub ?? `older-hub-${index}`}>
            <strong>{hub.host}</strong> <span className="mono">{hub.url}</span>: policy <code>{hub.digest}</code> from <code>{hub.file ?? 'the built-in rule'}</code>
          </li>
        ))}
      </ul>
      <p data-testid="policy-advice">
        Deploy the same policy file to every hub: until they agree, a request may be allowed or refused depending on which hub the load balancer picks. During a rolling
        update this shows for a moment, and it clears once every hub has loaded the same rules.
      </p>
    </section>
  );
}
