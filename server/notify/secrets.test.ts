import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSecret, webhookSigningKey } from './secrets.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

describe('secret references', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads env:VAR from the environment it is given', () => {
    expect(resolveSecret('env:BOT_SECRET', 'webhooks.bot.secret', { BOT_SECRET: SECRET })).toBe(SECRET);
  });

  it('reads file:/path without its trailing newline', () => {
    const file = path.join(dir, 'secret');
    writeFileSync(file, `${SECRET}\n`);
    expect(resolveSecret(`file:${file}`, 'x', {})).toBe(SECRET);
  });

  it('takes anything else as the secret itself', () => {
    expect(resolveSecret(SECRET, 'x', {})).toBe(SECRET);
  });

  it('names the key, never the value, when a reference cannot be resolved', () => {
    expect(() => resolveSecret('env:MISSING', 'notifiers.webhooks.bot.secret', {})).toThrow('notifiers.webhooks.bot.secret: the environment variable MISSING is not set');
    expect(() => resolveSecret('env:not a name', 'k', {})).toThrow(/not an environment variable name/);
    expect(() => resolveSecret(`file:${path.join(dir, 'absent')}`, 'k', {})).toThrow(/k: cannot read .*absent: ENOENT/);
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => resolveSecret(`file:${empty}`, 'k', {})).toThrow(/is empty/);
    expect(() => resolveSecret('', 'k', {})).toThrow(/k: expected a secret/);
    expect(() => resolveSecret(42, 'k', {})).toThrow(/k: expected a secret/);
  });

  it('refuses what looks like a reference but is not one, rather than taking it as the secret itself', () => {
    const file = path.join(dir, 'secret');
    writeFileSync(file, SECRET);
    expect(() => resolveSecret('ENV:SMTP_PASSWORD', 'notifiers.email.smtp.password', { SMTP_PASSWORD: SECRET })).toThrow(
      'notifiers.email.smtp.password: a secret reference starts with env: or file: in lower case, with nothing before it (this one starts with "ENV:")',
    );
    expect(() => resolveSecret(` file:${file}`, 'k', {})).toThrow(/k: a secret reference starts with env: or file: in lower case/);
    expect(() => resolveSecret(`File:${file}`, 'k', {})).toThrow(/this one starts with "File:"/);
    expect(() => resolveSecret('file:secrets/smtp', 'k', {})).toThrow('k: "file:secrets/smtp" needs an absolute path, such as file:/run/secrets/greenlight');
  });

  it('accepts whsec_ secrets of 24 to 64 bytes and refuses others without echoing them', () => {
    expect(webhookSigningKey(SECRET, 'k')).toEqual(Buffer.alloc(32, 7));
    const tooShort = `whsec_${Buffer.alloc(8).toString('base64')}`;
    for (const bad of ['hunter2', tooShort, 'whsec_', `whsec_${Buffer.alloc(65).toString('base64')}`]) {
      let message = '';
      try {
        webhookSigningKey(bad, 'k');
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^k: expected whsec_/);
      if (bad.length > 6) expect(message).not.toContain(bad);
    }
  });
});
