import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfigFile } from './config-file.js';
import { resolveHubSettings, settingsReport } from './resolve.js';
import { SETTINGS, SETTING_KEYS } from './settings.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(text: string, name = 'greenlight.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const resolve = (flags: Record<string, unknown>, env: Record<string, string> = {}) => resolveHubSettings({ flags, env: { HOME: '/home/ops', ...env } });
const problem = (work: () => unknown): string => {
  try {
    work();
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('where each hub setting comes from', () => {
  const file = configFile(['port: 7400', 'host: 0.0.0.0', 'rateLimit: 100', 'trustProxy: true', 'logLevel: warn', 'policy: policies/prod.yaml', 'dataDir: /var/lib/greenlight'].join('\n'));

  it('takes defaults when nothing is given', () => {
    const { settings, origins } = resolve({}, { XDG_DATA_HOME: '/data', XDG_CONFIG_HOME: '/config' });
    expect(settings).toEqual({
      port: 7300,
      host: '127.0.0.1',
      dataDir: '/data/greenlight',
      policy: undefined,
      databaseUrl: undefined,
      logLevel: 'info',
      rateLimit: 6000,
      trustProxy: false,
      accessLog: true,
      publicUrl: undefined,
      // The keys live apart from the data directory, so a copy of it can't sign.
      checkpointKey: '/config/greenlight/checkpoint-key.pem',
      keyEncryptionKey: '/config/greenlight/key-encryption-key',
      checkpointLog: undefined,
      checkpointLogShared: false,
      checkpointEvery: 1000,
      checkpointMinutes: 5,
    });
    expect(Object.values(origins).every((origin) => origin.source === 'default')).toBe(true);
  });

  it('takes the file over defaults, the environment over the file, and a flag over the environment', () => {
    const { settings, origins } = resolve({ port: '7500', accessLog: false }, { GREENLIGHT_CONFIG: file, GREENLIGHT_PORT: '7450', GREENLIGHT_HOST: '10.0.0.5', GREENLIGHT_TRUST_PROXY: 'false' });
    expect(settings.port).toBe(7500);
    expect(origins.port).toEqual({ source: 'flag', name: '--port' });
    expect(settings.host).toBe('10.0.0.5');
    expect(origins.host).toEqual({ source: 'env', name: 'GREENLIGHT_HOST' });
    expect(settings.trustProxy).toBe(false);
    expect(origins.trustProxy).toEqual({ source: 'env', name: 'GREENLIGHT_TRUST_PROXY' });
    expect(settings.rateLimit).toBe(100);
    expect(origins.rateLimit).toEqual({ source: 'file', name: file });
    expect(settings.logLevel).toBe('warn');
    expect(settings.accessLog).toBe(false);
    expect(origins.accessLog).toEqual({ source: 'flag', name: '--no-access-log' });
    expect(settings.databaseUrl).toBeUndefined();
    expect(origins.databaseUrl).toEqual({ source: 'default' });
  });

  it('takes --config over GREENLIGHT_CONFIG, and paths in the file relative to the file', () => {
    const other = configFile('port: 7600\n', 'other.yaml');
    const { settings, configFile: used } = resolve({ config: other }, { GREENLIGHT_CONFIG: file });
    expect(settings.port).toBe(7600);
    expect(used).toEqual({ path: other, origin: { source: 'flag', name: '--config' } });
    expect(resolve({}, { GREENLIGHT_CONFIG: file }).settings.policy).toBe(path.join(dir, 'policies', 'prod.yaml'));
  });

  it('has a variable for every flag, named GREENLIGHT_<FLAG>', () => {
    for (const key of SETTING_KEYS) expect(SETTINGS[key].env).toBe(`GREENLIGHT_${SETTINGS[key].flag.slice(2).replace(/-/g, '_').toUpperCase()}`);
  });

  it('treats an empty variable as unset', () => {
    expect(resolve({}, { GREENLIGHT_PORT: '', GREENLIGHT_CONFIG: '' }).origins.port).toEqual({ source: 'default' });
  });

  it('reads switches from the environment as true/false, 1/0, yes/no, on/off', () => {
    for (const [text, value] of [['1', true], ['yes', true], ['ON', true], ['0', false], ['no', false], ['off', false]] as const) {
      expect(resolve({}, { GREENLIGHT_TRUST_PROXY: text }).settings.trustProxy).toBe(value);
    }
  });

  it('lists each setting with its value and source, the database password redacted', () => {
    const rows = settingsReport(resolve({ databaseUrl: 'postgres://greenlight:hunter2@db.internal:5432/greenlight' }, { GREENLIGHT_CONFIG: file }));
    expect(rows[0]).toEqual({ setting: 'config', value: file, source: 'environment GREENLIGHT_CONFIG' });
    expect(rows).toContainEqual({ setting: 'databaseUrl', value: 'postgres://greenlight:***@db.internal:5432/greenlight', source: 'flag --database-url' });
    expect(rows).toContainEqual({ setting: 'rateLimit', value: 100, source: `config file ${file}` });
    expect(rows).toContainEqual({ setting: 'accessLog', value: true, source: 'default' });
    expect(JSON.stringify(rows)).not.toContain('hunter2');
  });
});

describe('bad settings are refused, naming where the value came from', () => {
  it.each([
    [{ port: '70000' }, {}, '--port: expected a port number, 0 to 65535'],
    [{ port: 'http' }, {}, '--port: expected a port number, 0 to 65535'],
    [{}, { GREENLIGHT_PORT: '-1' }, 'GREENLIGHT_PORT: expected a port number, 0 to 65535'],
    [{}, { GREENLIGHT_RATE_LIMIT: '0' }, 'GREENLIGHT_RATE_LIMIT: expected a positive whole number'],
    [{}, { GREENLIGHT_LOG_LEVEL: 'loud' }, 'GREENLIGHT_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent'],
    [{}, { GREENLIGHT_TRUST_PROXY: 'maybe' }, 'GREENLIGHT_TRUST_PROXY: expected true or false'],
    [{ databaseUrl: 'mysql://db' }, {}, '--database-url: expected a postgres:// URL'],
  ])('%j %j', (flags, env, message) => {
    expect(problem(() => resolve(flags, env))).toBe(message);
  });
});

describe('the config file', () => {
  it('refuses an unknown key, listing the known ones', () => {
    const file = configFile('prot: 7300\nhost: 0.0.0.0\n', 'typo.yaml');
    expect(problem(() => loadConfigFile(file))).toBe(
      `config file ${file}: unknown key "prot" (known keys: port, host, dataDir, policy, databaseUrl, databaseListenUrl, logLevel, rateLimit, trustProxy, accessLog, publicUrl, checkpointKey, retiredCheckpointKeys, keyEncryptionKey, checkpointLog, checkpointLogShared, checkpointEvery, checkpointMinutes, notifiers, oidc)`,
    );
  });

  it('names the key whose value is wrong, and every such key', () => {
    const text = 'port: "seventy"\ntrustProxy: perhaps\nrateLimit: 1.5\n';
    expect(problem(() => parseConfigFile(text, 'hub.yaml'))).toBe(
      'config file hub.yaml: port: expected a port number, 0 to 65535; rateLimit: expected a positive whole number; trustProxy: expected true or false',
    );
  });

  it('takes numbers and booleans as YAML writes them, or as text', () => {
    expect(parseConfigFile('port: 8080\ntrustProxy: yes\naccessLog: "off"\nrateLimit: "50"\n', 'hub.yaml').values).toEqual({ port: 8080, trustProxy: true, accessLog: false, rateLimit: 50 });
  });

  it('says where YAML is broken, and refuses a file that is not a mapping or repeats a key', () => {
    expect(problem(() => parseConfigFile('port: 7300\n  host: [\n', 'hub.yaml'))).toMatch(/^config file hub\.yaml line \d+: not valid YAML: /);
    expect(problem(() => parseConfigFile('- port: 7300\n', 'hub.yaml'))).toBe('config file hub.yaml: expected a mapping of settings (key: value lines), not a list');
    expect(problem(() => parseConfigFile('port: 1\nport: 2\n', 'hub.yaml'))).toMatch(/^config file hub\.yaml line 2: not valid YAML: Map keys must be unique/);
  });

  it('refuses a file nested thousands deep, or whose aliases multiply, with a ConfigError instead of running out of stack', () => {
    expect(problem(() => parseConfigFile('port: 7300\nnotifiers: ' + '['.repeat(5_000), 'hub.yaml'))).toBe(
      'config file hub.yaml line 2: lists and maps nest more than 32 deep; no setting needs that many',
    );
    expect(problem(() => parseConfigFile('- '.repeat(20_000), 'hub.yaml'))).toBe('config file hub.yaml line 1: lists and maps nest more than 32 deep; no setting needs that many');
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((name, index) => `${name}: &${name} [${Array(9).fill(`*${'abcdefgh'[index]}`).join(', ')}]`)].join('\n');
    expect(problem(() => parseConfigFile(laughs, 'hub.yaml'))).toBe('config file hub.yaml: not valid YAML: Excessive alias count indicates a resource exhaustion attack');
  });

  it('accepts an empty file (every setting from elsewhere)', () => {
    expect(parseConfigFile('', 'hub.yaml').values).toEqual({});
    expect(parseConfigFile('# nothing yet\n', 'hub.yaml').values).toEqual({});
  });

  it('says when it cannot be read', () => {
    expect(problem(() => loadConfigFile(path.join(dir, 'missing.yaml')))).toBe(`cannot read the config file ${path.join(dir, 'missing.yaml')}: no such file`);
    expect(problem(() => loadConfigFile(dir))).toBe(`cannot read the config file ${dir}: it is a folder`);
  });
});

describe('publicUrl and notifiers in the config file', () => {
  const secret = 'whsec_c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhay0xMjM0NTY=';
  const password = 'literal-smtp-password-do-not-print';
  const text = [
    'publicUrl: https://greenlight.example.com/',
    'notifiers:',
    '  allowPrivateNetworks: true',
    '  webhooks:',
    `    - { name: deploy-bot, url: "https://bot.example.com/hook?token=path-secret", secret: "${secret}", events: [request.created] }`,
    '  email:',
    `    smtp: { host: smtp.example.com, port: 587, secure: false, user: greenlight, password: "${password}" }`,
    '    from: "Greenlight <greenlight@example.com>"',
  ].join('\n');

  it('holds the notifier section as the issue writes it, with defaults filled in', () => {
    const { values } = parseConfigFile(text, 'hub.yaml');
    expect(values.publicUrl).toBe('https://greenlight.example.com');
    expect(values.notifiers).toEqual({
      allowPrivateNetworks: true,
      webhooks: [{ name: 'deploy-bot', url: 'https://bot.example.com/hook?token=path-secret', secret, events: ['request.created'], maxConcurrency: 4 }],
      email: { smtp: { host: 'smtp.example.com', port: 587, secure: false, user: 'greenlight', password, maxConcurrency: 2 }, from: 'Greenlight <greenlight@example.com>' },
    });
  });

  it('lets a flag or variable beat the file for publicUrl; notifiers come from the file alone', () => {
    const file = configFile(text, 'notifiers.yaml');
    const fromFile = resolve({}, { GREENLIGHT_CONFIG: file });
    expect(fromFile.settings.publicUrl).toBe('https://greenlight.example.com');
    expect(fromFile.notifiers?.webhooks[0]?.name).toBe('deploy-bot');
    const fromFlag = resolve({ publicUrl: 'https://gl.internal.example.com' }, { GREENLIGHT_CONFIG: file, GREENLIGHT_PUBLIC_URL: 'https://env.example.com' });
    expect(fromFlag.settings.publicUrl).toBe('https://gl.internal.example.com');
    expect(fromFlag.origins.publicUrl).toEqual({ source: 'flag', name: '--public-url' });
    expect(problem(() => resolve({ publicUrl: 'ftp://x' }))).toBe('--public-url: must be an http:// or https:// URL');
  });

  it('names the nested key that is wrong, never a secret', () => {
    const wrong = (yaml: string) => problem(() => parseConfigFile(yaml, 'hub.yaml'));
    expect(wrong(`notifiers:\n  webhooks:\n    - { name: bot, url: "ftp://bot.example.com", secret: "${secret}" }\n`)).toBe('config file hub.yaml: notifiers.webhooks.0.url: must be an http:// or https:// URL');
    expect(wrong('notifiers:\n  webhook: []\n')).toBe('config file hub.yaml: unknown key "notifiers.webhook"');
    expect(wrong(`notifiers:\n  email:\n    smtp: { host: smtp.example.com, port: 99999, password: "${password}" }\n    from: greenlight\n`)).toBe(
      'config file hub.yaml: notifiers.email.smtp.port: Too big: expected number to be <=65535; notifiers.email.smtp.user: give the user this password signs in as, or leave out password to send without signing in; notifiers.email.from: expected an address, or "Name <address>"',
    );
    expect(wrong(`notifiers:\n  email:\n    smtp: { hots: smtp.example.com, password: "${password}" }\n    from: a@example.com\n`)).not.toContain(password);
    // A password with no user would be dropped, and mail sent without signing in.
    expect(wrong(`notifiers:\n  email:\n    smtp: { host: smtp.example.com, password: "${password}" }\n    from: a@example.com\n`)).toBe(
      'config file hub.yaml: notifiers.email.smtp.user: give the user this password signs in as, or leave out password to send without signing in',
    );
    expect(wrong('notifiers:\n  email:\n    smtp: { host: smtp.example.com, user: greenlight }\n    from: a@example.com\n')).toBe(
      'config file hub.yaml: notifiers.email.smtp.password: give the password to sign in as this user (env:VAR, file:/path or the value), or leave out user to send without signing in',
    );
  });

  it('logs which channels are configured, by name and server, never a path, user or secret', () => {
    const rows = settingsReport(resolve({}, { GREENLIGHT_CONFIG: configFile(text, 'report.yaml') }));
    const notifiers = rows.find((row) => row.setting === 'notifiers');
    expect(notifiers?.value).toBe('webhook:deploy-bot (https://bot.example.com), email via smtp.example.com:587');
    const printed = JSON.stringify(rows);
    for (const hidden of [secret, password, 'path-secret']) expect(printed).not.toContain(hidden);
  });
});
