import { readFileSync } from 'node:fs';
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { GreenlightError } from '../../../protocol/index.js';
import type { OidcSettings } from './config.js';

/**
 * The provider's configuration from its discovery document, fetched on the first sign-in and again
 * after a failure, so a provider that was down when the hub started is picked up once it is back.
 */
export class ProviderClient {
  private configuration: Promise<client.Configuration> | null = null;
  private readonly fetchWithCa: client.CustomFetch | null;

  constructor(private readonly settings: OidcSettings) {
    if (settings.caFile) {
      const dispatcher = new Agent({ connect: { ca: readFileSync(settings.caFile, 'utf8') } });
      // undici's own fetch, since Node's global fetch takes no dispatcher in its types.
      this.fetchWithCa = async (url, options) => (await undiciFetch(url, { ...options, body: options.body as string | undefined, dispatcher })) as unknown as Response;
    } else this.fetchWithCa = null;
  }

  async get(): Promise<client.Configuration> {
    this.configuration ??= this.discover();
    try {
      return await this.configuration;
    } catch (error) {
      this.configuration = null;
      throw error;
    }
  }

  /** The configuration with its clock moved by `skewSeconds`, so tokens are checked against the hub's clock. */
  async withClockSkew(skewSeconds: number): Promise<client.Configuration> {
    const discovered = await this.get();
    const { clientId, clientSecret } = this.settings;
    const configuration = new client.Configuration(discovered.serverMetadata(), clientId, { client_secret: clientSecret, [client.clockSkew]: skewSeconds }, client.ClientSecretBasic(clientSecret));
    if (this.fetchWithCa) configuration[client.customFetch] = this.fetchWithCa;
    return configuration;
  }

  private async discover(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    try {
      const options = this.fetchWithCa ? { [client.customFetch]: this.fetchWithCa, timeout: 10 } : { timeout: 10 };
      const configuration = await client.discovery(new URL(issuer), clientId, { client_secret: clientSecret }, client.ClientSecretBasic(clientSecret), options);
      if (this.fetchWithCa) configuration[client.customFetch] = this.fetchWithCa;
      return configuration;
    } catch (error) {
      throw new GreenlightError('UNAVAILABLE', `The identity provider at ${issuer} could not be reached (${reasonOf(error)}). Nothing was changed; try again in a moment, or sign in with a token.`);
    }
  }
}

export function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const cause: unknown = error.cause;
    if (cause instanceof Error && cause.message) return `${error.message}: ${cause.message}`;
    return error.message;
  }
  return String(error);
}
