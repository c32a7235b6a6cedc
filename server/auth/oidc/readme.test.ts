import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../config/config-file.js';
import { resolveOidcSettings } from './config.js';

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../README.md');

describe("the README's single sign-on configuration", () => {
  it('loads as pasted, its secret from the environment', () => {
    const text = readFileSync(README, 'utf8');
    const start = text.indexOf('## Single sign-on (OIDC)');
    const section = text.slice(start, text.indexOf('\n## ', start + 1));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const { values } = parseConfigFile(yaml, 'README.md');
    if (!values.oidc) throw new Error('the README shows an oidc: section');
    const settings = resolveOidcSettings(values.oidc, { GREENLIGHT_OIDC_SECRET: 'from-the-environment' });
    expect(settings).toMatchObject({ clientSecret: 'from-the-environment', roleMapping: { admin: ['gl-admins'], lead: ['sre-leads'], approver: ['sre', 'security'] }, allowedGroups: ['engineering'] });
  });
});
