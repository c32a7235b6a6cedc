import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A hub as its own OS process (`greenlight hub`), so a test can SIGKILL it like a crash would. */
export class HubProcess {
  private child: ChildProcess | null = null;
  url = '';

  constructor(private readonly args: string[], private readonly env: Record<string, string>) {}

  async start(): Promise<string> {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'greenlight.mjs'), 'hub', '--port', '0', ...this.args], {
      cwd: ROOT,
      env: { ...process.env, GREENLIGHT_LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    this.url = await new Promise<string>((resolve, reject) => {
      child.stderr?.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`hub exited with ${code}: ${stderr}`)));
    });
    return this.url;
  }

  /** Ends the process the hard way: no shutdown code runs. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
