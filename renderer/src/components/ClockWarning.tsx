import type { ClusterStatus } from '../../../protocol/setup.js';

/** For an admin whose hub's system clock is over 30 s from its database's: by how much, and what to do. */
export function ClockWarning({ cluster }: { cluster: ClusterStatus }) {
  if (!cluster.clockWarning) return null;
  return (
    <section className="clock-warning" aria-labelledby="clock-warning-title">
      <h2 id="clock-warning-title">This hub's clock is off</h2>
      <p data-testid="clock-advice">{cluster.clockWarning}</p>
    </section>
  );
}
