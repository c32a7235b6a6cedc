import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hubArguments, shellWord } from './start-args.mjs';

describe('npm start arguments', () => {
  it('takes the flags it needs to know and passes everything else to the hub as given', () => {
    expect(hubArguments(['--policy', './policy.yaml', '--log-level', 'debug', '--trust-proxy', '--port=7400', '--data-dir', '/srv/gl'])).toEqual({
      port: '7400',
      dataDirArg: '/srv/gl',
      policyArg: './policy.yaml',
      passThrough: ['--log-level', 'debug', '--trust-proxy'],
    });
    expect(hubArguments([])).toEqual({ port: undefined, dataDirArg: undefined, policyArg: undefined, passThrough: [] });
    expect(hubArguments(['--policy=p.yaml', '--rate-limit', '100'])).toMatchObject({ policyArg: 'p.yaml', passThrough: ['--rate-limit', '100'] });
  });

  it('quotes words for a shell only when they need it, so the printed commands paste as they are', () => {
    expect(shellWord('/home/ada/.local/share/greenlight/admin-token')).toBe('/home/ada/.local/share/greenlight/admin-token');
    for (const word of ["/home/o'neil/my data/admin-token", 'a$b`c', 'x;y']) {
      expect(execFileSync('sh', ['-c', `printf %s ${shellWord(word)}`], { encoding: 'utf8' })).toBe(word);
    }
  });
});
