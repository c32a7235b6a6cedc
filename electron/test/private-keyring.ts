import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadKeytar, type KeytarLike } from '../keychain.js';

const run = promisify(execFile);

/** Why this machine cannot start a Secret Service of its own for a test, or null when it can. */
export const noPrivateKeyring: string | null = await (async () => {
  for (const tool of ['dbus-daemon', 'dbus-send', 'gnome-keyring-daemon']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return (await loadKeytar()) ? null : 'keytar is not installed (it is an optional dependency)';
})();

/** A real gnome-keyring on a D-Bus session of its own, which this test process's keytar talks to. */
export interface PrivateKeyring {
  keytar: KeytarLike;
  /** Locks the collection keytar stores in, as the OS does at screen lock or after login without unlocking. */
  lock(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Starts a D-Bus session and an unlocked gnome-keyring on it, with its own data folder, and points this
 * process at it. A keyring of its own because locking the one `scripts/with-keychain.sh` shares would
 * break the other test files using it meanwhile. Call it before anything in the process uses keytar:
 * libsecret keeps the first session bus it connects to. Headless, the keyring cannot ask anyone to
 * unlock it, so once locked an unlock is refused, as when the person dismisses the OS's prompt.
 */
export async function startPrivateKeyring(): Promise<PrivateKeyring> {
  const keytar = await loadKeytar();
  if (!keytar) throw new Error('keytar is not installed');
  const folder = await mkdtemp(join(tmpdir(), 'greenlight-keyring-'));
  const bus: ChildProcess = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const [printed] = (await once(bus.stdout ?? bus, 'data')) as [Buffer];
  const address = printed.toString().trim();
  const env: NodeJS.ProcessEnv = { ...process.env, DBUS_SESSION_BUS_ADDRESS: address, XDG_DATA_HOME: join(folder, 'data'), XDG_RUNTIME_DIR: folder };
  delete env.GNOME_KEYRING_CONTROL;
  // Ends by itself when its bus does.
  const daemon = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'ignore', 'ignore'] });
  daemon.stdin.end('pass');
  const send = (...args: string[]) => run('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.secrets', ...args], { env });
  const owned = async () => (await run('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.secrets'], { env })).stdout.includes('true');
  for (let tries = 0; !(await owned()); tries += 1) {
    if (tries > 200) throw new Error('the private gnome-keyring did not take org.freedesktop.secrets within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  process.env.DBUS_SESSION_BUS_ADDRESS = address;
  return {
    keytar,
    lock: async () => {
      const alias = await send('/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.ReadAlias', 'string:default');
      const collection = /object path "([^"]+)"/.exec(alias.stdout)?.[1];
      if (!collection || collection === '/') throw new Error(`the private keyring has no default collection: ${alias.stdout}`);
      await send('/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', `array:objpath:${collection}`);
    },
    dispose: async () => {
      const ended = once(daemon, 'exit');
      bus.kill();
      await ended;
      await rm(folder, { recursive: true, force: true });
    },
  };
}
