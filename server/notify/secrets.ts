import { readFileSync } from 'node:fs';

/**
 * Resolves a secret reference from the hub configuration: `env:VAR` reads an environment variable,
 * `file:/path` a file (trailing newline dropped), anything else is the secret itself. Errors name
 * `where` (the configuration key) and never the secret.
 */
export function resolveSecret(reference: unknown, where: string, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof reference !== 'string' || reference.length === 0) throw new Error(`${where}: expected a secret, env:VAR_NAME or file:/path`);
  if (reference.startsWith('env:')) {
    const name = reference.slice(4);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`${where}: "env:${name}" is not an environment variable name`);
    const value = env[name];
    if (!value) throw new Error(`${where}: the environment variable ${name} is not set`);
    return value;
  }
  if (reference.startsWith('file:')) {
    const file = reference.slice(5);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`${where}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    const value = text.replace(/\r?\n$/, '');
    if (!value) throw new Error(`${where}: ${file} is empty`);
    return value;
  }
  return reference;
}

/** A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. Returns the key bytes. */
export function webhookSigningKey(secret: string, where: string): Buffer {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  const key = match?.[1] ? Buffer.from(match[1], 'base64') : null;
  if (!key || key.length < 24 || key.length > 64) throw new Error(`${where}: expected whsec_ followed by the base64 of 24 to 64 random bytes`);
  return key;
}
