import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Resolves a secret reference from the hub configuration: `env:VAR` reads an environment variable,
 * `file:/path` a file (trailing newline dropped), anything else is the secret itself. Errors name
 * `where` (the configuration key) and never the secret.
 */
export function resolveSecret(reference: unknown, where: string, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof reference !== 'string' || reference.length === 0) throw new Error(`${where}: expected a secret, env:VAR_NAME or file:/path`);
  // "ENV:X" or " file:/x" meant as a reference would otherwise be taken as the secret itself, and the
  // hub would start only to fail at the first delivery or sign-in. The prefix is named, never the value.
  const nearMiss = /^\s*(env|file):/i.exec(reference);
  if (nearMiss && !reference.startsWith('env:') && !reference.startsWith('file:')) {
    throw new Error(`${where}: a secret reference starts with env: or file: in lower case, with nothing before it (this one starts with "${nearMiss[0]}"); a secret that really begins so can be kept in a file and given as file:/path`);
  }
  if (reference.startsWith('env:')) {
    const name = reference.slice(4);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`${where}: "env:${name}" is not an environment variable name`);
    const value = env[name];
    if (!value) throw new Error(`${where}: the environment variable ${name} is not set`);
    return value;
  }
  if (reference.startsWith('file:')) {
    const file = reference.slice(5);
    // Relative to what? The hub's working directory is rarely the config file's: say where instead.
    if (!path.isAbsolute(file)) throw new Error(`${where}: "file:${file}" needs an absolute path, such as file:/run/secrets/greenlight`);
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
