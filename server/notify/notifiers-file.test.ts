import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNotifiersFile } from './notifiers-file.js';

describe('the notifiers file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-notifiers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (text: string) => {
    const file = path.join(dir, `n-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return file;
  };

  it('takes publicUrl and notifiers and leaves other keys of the hub configuration alone', () => {
    const file = write('port: 7300\npublicUrl: https://gl.example.com\nnotifiers:\n  webhooks:\n    - { name: bot, url: "https://bot.example.com/x", secret: env:BOT }\n');
    expect(readNotifiersFile(file)).toEqual({ publicUrl: 'https://gl.example.com', notifiers: expect.objectContaining({ allowPrivateNetworks: false }) });
  });

  it('names the key that is wrong, never the value', () => {
    const secret = 'whsec_c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhay0xMjM0NTY=';
    const file = write(`notifiers:\n  webhooks:\n    - { name: bot, url: "ftp://bot.example.com", secret: "${secret}" }\n`);
    expect(() => readNotifiersFile(file)).toThrow(/notifiers\.webhooks\.0\.url: must be an http:\/\/ or https:\/\/ URL/);
    const typo = write(`notifiers:\n  webhook: []\n`);
    expect(() => readNotifiersFile(typo)).toThrow(/notifiers: /);
    let message = '';
    try {
      readNotifiersFile(write(`notifiers:\n  webhooks:\n    - { name: "bad name", url: "https://x.example.com", secret: "${secret}" }\n`));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/notifiers\.webhooks\.0\.name/);
    expect(message).not.toContain(secret);
    expect(() => readNotifiersFile(path.join(dir, 'absent.yaml'))).toThrow(/absent\.yaml: no such file/);
    expect(() => readNotifiersFile(write('notifiers: [unclosed'))).toThrow(/not valid YAML/);
  });
});
