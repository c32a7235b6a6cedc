import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, matchRule, parsePolicy } from './policy.js';
import { ensureStarterPolicy, STARTER_POLICY } from './starter-policy.js';

const request = (action: string, resource: string, environment: string, risk: 'low' | 'medium' | 'high' | 'critical' = 'medium') => ({ action, resource, environment, risk });

/** The starter with every commented example taken in: "# " removed where a YAML line follows it. */
const withExamples = (text: string) => text.replace(/^(\s*)# (?=\s*(?:- name:|[a-zA-Z]+:|- \{))/gm, '$1');

describe('the starter policy', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-starter-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('is written into the data directory, created if need be, and says what it is', () => {
    const dataDir = path.join(tempDir(), 'not-yet');
    const { file, created } = ensureStarterPolicy(dataDir);
    expect(created).toBe(true);
    expect(file).toBe(path.join(dataDir, 'policy.yaml'));
    expect(readFileSync(file, 'utf8')).toBe(STARTER_POLICY);
    expect(STARTER_POLICY).toContain('greenlight user add bob --role approver --group approvers');
  });

  it('parses with the hub parser into the built-in default: one approval from group approvers', () => {
    const policy = parsePolicy(STARTER_POLICY, 'policy.yaml');
    expect(policy).toEqual(DEFAULT_POLICY);
    const rule = matchRule(policy, request('anything', 'at-all', 'anywhere'));
    expect(rule).toMatchObject({
      name: 'default',
      approvers: ['approvers'],
      minApprovals: 1,
      allowSelfApproval: false,
      autoApprove: false,
      escalation: [],
      grantTtl: 900,
    });
    // Nothing expires by default: an undecided request waits.
    expect(rule?.expireAfter).toBeUndefined();
  });

  it('has a commented example of every rule feature, each valid once uncommented and tried before the default', () => {
    const policy = parsePolicy(withExamples(STARTER_POLICY), 'policy.yaml');
    expect(policy.rules.map((rule) => rule.name)).toEqual(['prod-deploys', 'database-access', 'staging', 'default']);

    const prod = matchRule(policy, request('deploy', 'payments-api', 'production'));
    expect(prod).toMatchObject({ name: 'prod-deploys', approvers: ['sre'], minApprovals: 2, expireAfter: 3600, grantTtl: 900, claimHolds: 600 });
    expect(prod?.escalation).toEqual([
      { after: 300, notify: ['sre-leads'] },
      { after: 1200, notify: ['managers', 'carol'] },
    ]);

    expect(matchRule(policy, request('db-access', 'orders-db', 'production', 'high'))).toMatchObject({ name: 'database-access', allowSelfApproval: true, grantTtl: 1800 });
    // The example's match narrows by resource glob and by risk.
    expect(matchRule(policy, request('db-access', 'orders-db', 'production', 'low'))?.name).toBe('default');
    expect(matchRule(policy, request('db-access', 'orders-cache', 'production', 'high'))?.name).toBe('default');

    expect(matchRule(policy, request('deploy', 'web', 'staging'))).toMatchObject({ name: 'staging', autoApprove: true });
    expect(matchRule(policy, request('restart', 'web', 'production'))?.name).toBe('default');
  });

  it('is never overwritten once there: a later start uses the file as edited', () => {
    const dataDir = tempDir();
    const { file } = ensureStarterPolicy(dataDir);
    const edited = `${STARTER_POLICY}\n# edited by an admin\n`;
    writeFileSync(file, edited);
    expect(ensureStarterPolicy(dataDir)).toEqual({ file, created: false });
    expect(readFileSync(file, 'utf8')).toBe(edited);
  });
});
