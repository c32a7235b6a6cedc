import { z } from 'zod';
import { groupNameSchema } from '../../../protocol/index.js';
import { resolveSecret } from '../../notify/secrets.js';

const groupsSchema = z.array(groupNameSchema).max(100);

/** The `oidc:` section of the hub configuration file. */
export const oidcConfigSchema = z.strictObject({
  /** The provider's issuer URL (https), as its discovery document states it. */
  issuer: z.url({ protocol: /^https$/, error: 'expected the https:// URL of the identity provider (its issuer)' }),
  clientId: z.string().min(1),
  /** `env:VAR`, `file:/path`, or (not recommended) the secret itself. */
  clientSecret: z.string().min(1),
  /** Shown on the button: "Sign in with <name>". */
  name: z.string().min(1).max(64).default('single sign-on'),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default(['openid', 'profile', 'email']),
  groupsClaim: z.string().min(1).default('groups'),
  emailClaim: z.string().min(1).default('email'),
  usernameClaim: z.string().min(1).default('preferred_username'),
  /** Which IdP groups give which role; everyone who signs in is a requester. */
  roleMapping: z.strictObject({ admin: groupsSchema.optional(), lead: groupsSchema.optional(), approver: groupsSchema.optional() }).default({}),
  /** When set, only members of one of these groups may sign in. */
  allowedGroups: groupsSchema.min(1).optional(),
  /** A PEM file of extra certificate authorities to trust for the provider (a company CA). */
  caFile: z.string().min(1).optional(),
});
export type OidcConfigFile = z.infer<typeof oidcConfigSchema>;

/** The section with its secret resolved; what the hub runs with. */
export type OidcSettings = Omit<OidcConfigFile, 'clientSecret'> & { clientSecret: string };

export function resolveOidcSettings(section: OidcConfigFile, env: NodeJS.ProcessEnv = process.env): OidcSettings {
  return { ...section, clientSecret: resolveSecret(section.clientSecret, 'oidc.clientSecret', env) };
}
