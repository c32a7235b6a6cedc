import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { httpUrlSchema } from '../../protocol/index.js';
import { notifiersConfigSchema, type NotifiersConfig } from './config.js';

/**
 * Reads `publicUrl` and `notifiers:` from a YAML file shaped like the hub configuration file (other
 * keys are left to it). The hub reads it from GREENLIGHT_NOTIFIERS_FILE until `--config` carries these
 * sections. Errors name the key, never a value (a literal secret may sit there).
 */
const notifiersFileSchema = z.object({
  publicUrl: httpUrlSchema.optional(),
  notifiers: notifiersConfigSchema.optional(),
});

export function readNotifiersFile(file: string): { publicUrl?: string; notifiers?: NotifiersConfig } {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'), { maxAliasCount: 100 });
  } catch (error) {
    throw new Error(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not valid YAML'}`);
  }
  const result = notifiersFileSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'}`);
  }
  return { publicUrl: result.data.publicUrl, notifiers: result.data.notifiers };
}
