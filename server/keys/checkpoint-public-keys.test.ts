import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointKeyId, checkpointSignatureValid, keyInUse, signCheckpoint } from '../domain/checkpoints.js';
import { readCheckpointPublicKeys } from './key-files.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-checkpoint-public-keys-'));
const file = (name: string, text: string) => {
  const at = path.join(dir, name);
  writeFileSync(at, text);
  return at;
};
const pair = () => generateKeyPairSync('ed25519');
const publicPem = (keys: ReturnType<typeof pair>) => keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('checkpoint public key files', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every key of a file, each retired one with the last event it vouches for', () => {
    const [first, second] = [pair(), pair()];
    const keys = readCheckpointPublicKeys(file('retired.pem', `# 2024\nuntil-seq: 120\n${publicPem(first)}\nuntil-seq: 4000\n${publicPem(second)}`), { retired: true });
    expect(keys.map(({ key, untilSeq }) => [checkpointKeyId(key), untilSeq])).toEqual([
      [checkpointKeyId(first.publicKey), 120],
      [checkpointKeyId(second.publicKey), 4000],
    ]);
  });

  it('refuses a retired key without its last event, and a retired private key', () => {
    expect(() => readCheckpointPublicKeys(file('no-end.pem', publicPem(pair())), { retired: true })).toThrow(/PEM block 1 has no "until-seq: N" line before it/);
    const privatePem = pair().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => readCheckpointPublicKeys(file('private.pem', `until-seq: 9\n${privatePem}`), { retired: true })).toThrow(/PEM block 1 is not a public key/);
  });

  it('refuses an until-seq that is no event number, and one after the last key', () => {
    expect(() => readCheckpointPublicKeys(file('huge.pem', `until-seq: ${'9'.repeat(400)}\n${publicPem(pair())}`), { retired: true })).toThrow(/is not an event number/);
    expect(() => readCheckpointPublicKeys(file('after.pem', `${publicPem(pair())}until-seq: 12\n`))).toThrow(/an until-seq line follows the last key/);
  });

  it('takes a private key file as the key in use when checking, with no end', () => {
    const keys = pair();
    const [read] = readCheckpointPublicKeys(file('key.pem', keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()));
    expect(read && checkpointKeyId(read.key)).toBe(checkpointKeyId(keys.publicKey));
    expect(read?.untilSeq).toBeNull();
  });

  it('a key given both with an end and without keeps its end', () => {
    const old = pair();
    const checkpoint = signCheckpoint(old.privateKey, old.publicKey, { seq: 6, hash: 'a'.repeat(64), at: '2026-12-06T00:00:00.000Z', hubId: 'hub', chainId: 'chain' });
    expect(checkpointSignatureValid([keyInUse(old.publicKey)], checkpoint)).toBe(true);
    expect(checkpointSignatureValid([keyInUse(old.publicKey), { key: old.publicKey, untilSeq: 5 }], checkpoint)).toBe(false);
    expect(checkpointSignatureValid([{ key: old.publicKey, untilSeq: 5 }, keyInUse(old.publicKey)], checkpoint)).toBe(false);
  });
});
