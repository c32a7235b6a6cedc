import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigFile } from '../../config/config-file.js';
import { resolveOidcSettings } from './config.js';

describe('the oidc: section of the hub configuration file', () => {
  const file = '/etc/greenlight/hub.yaml';

  it('takes the issue’s example with its defaults, and reads the secret from the environment', () => {
    const { values } = parseConfigFile(
      `oidc:
  issuer: https://login.example.com/realms/eng
  clientId: greenlight
  clientSecret: env:OIDC_SECRET
  roleMapping: { admin: [gl-admins], lead: [sre-leads], approver: [sre, security] }
  allowedGroups: [engineering]
`,
      file,
    );
    if (!values.oidc) throw new Error('the oidc section should be read');
    expect(values.oidc).toMatchObject({ groupsClaim: 'groups', emailClaim: 'email', usernameClaim: 'preferred_username', scopes: ['openid', 'profile', 'email'], name: 'single sign-on' });
    expect(resolveOidcSettings(values.oidc, { OIDC_SECRET: 's3cret' }).clientSecret).toBe('s3cret');
    expect(() => resolveOidcSettings(values.oidc!, {})).toThrow('oidc.clientSecret: the environment variable OIDC_SECRET is not set');
  });

  it('refuses a plain-http issuer and an unknown key, naming them', () => {
    expect(() => parseConfigFile('oidc: { issuer: "http://login.example.com", clientId: a, clientSecret: b }\n', file)).toThrow(/oidc\.issuer: expected the https:\/\/ URL/);
    expect(() => parseConfigFile('oidc: { issuer: "https://login.example.com", clientId: a, clientSecret: b, groupClaim: g }\n', file)).toThrow(ConfigError);
  });
});
