import { describe, expect, it } from 'vitest';
import { capturedLog } from '../test-support/captured-log.js';
import { PolicyAgreement, type HubPolicy } from './policy-agreement.js';

const digest = (digit: string) => digit.repeat(64);

describe('comparing policy digests with the other hubs', () => {
  const setUp = () => {
    const log = capturedLog<{ level: number; msg: string }>('info');
    const own: HubPolicy = { hub: 'self', host: 'hub-1', url: 'http://10.0.0.1:7300', digest: digest('a'), file: '/etc/greenlight/policy.yaml' };
    const agreement = new PolicyAgreement(() => own, log.logger);
    const peer = (hubDigest: string): HubPolicy => ({ hub: 'peer', host: 'hub-2', url: 'http://10.0.0.2:7300', digest: hubDigest, file: '/srv/policy.yaml' });
    return { log, own, agreement, peer };
  };

  it('warns once per pair of digests, however often the other hub repeats its own', () => {
    const { log, agreement, peer } = setUp();
    expect(agreement.heard(peer(digest('b')))).toBe(true);
    expect(agreement.heard(peer(digest('b')))).toBe(false);
    expect(log.warnings().map((line) => line.msg)).toEqual([
      'this hub runs policy aaaaaaaaaaaa from /etc/greenlight/policy.yaml, but the hub at hub-2 (http://10.0.0.2:7300) runs bbbbbbbbbbbb from /srv/policy.yaml. Deploy the same policy file to every hub: until they agree, a request may be allowed or refused depending on which hub the load balancer picks.',
    ]);
    expect(agreement.disagreeing()).toBe(1);
  });

  it('takes the warning back when they agree, and warns again of a new disagreement', () => {
    const { log, own, agreement, peer } = setUp();
    agreement.heard(peer(digest('b')));
    own.digest = digest('b');
    agreement.ownChanged();
    expect(agreement.disagreeing()).toBe(0);
    expect(log.lines().at(-1)?.msg).toBe('the hub at hub-2 (http://10.0.0.2:7300) runs the same policy as this one again (bbbbbbbbbbbb)');
    own.digest = digest('c');
    agreement.ownChanged();
    expect(log.warnings()).toHaveLength(2);
    expect(log.warnings()[1]?.msg).toContain('this hub runs policy cccccccccccc');
  });

  it('forgets a hub that left, so it no longer counts as disagreeing', () => {
    const { agreement, peer } = setUp();
    agreement.heard(peer(digest('b')));
    agreement.left('peer');
    expect(agreement.peersHeard()).toEqual([]);
    expect(agreement.disagreeing()).toBe(0);
    expect(agreement.heard(peer(digest('b')))).toBe(true);
  });
});
