import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedTestKeyFiles } from './test-keys.js';
import { fromSource, withoutGreenlightVariables } from './hub-process.js';

/** Runs `bin/greenlight.mjs` as a real child process, so exit codes and streams are real. */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'greenlight.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The parent's environment without any GREENLIGHT_* a developer may have exported; the CLI runs from
 * this run's build of the sources, or from the sources themselves (`fromSource()`), unless `extra` says otherwise.
 */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const keys = sharedTestKeyFiles();
  return { ...withoutGreenlightVariables(process.env), GREENLIGHT_FROM_SOURCE: fromSource(), GREENLIGHT_CHECKPOINT_KEY: keys.checkpointKeyFile, GREENLIGHT_KEY_ENCRYPTION_KEY: keys.keyEncryptionKeyFile, ...extra };
}

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  private readonly listeners = new Set<() => void>();

  constructor(args: string[], env: Record<string, string>, stdin?: string) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (stdin !== undefined) this.child.stdin?.end(stdin);
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => this.append('stdout', text));
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => this.append('stderr', text));
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code) => {
        this.notify();
        resolve({ code, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  private append(stream: 'stdout' | 'stderr', text: string): void {
    this[stream] += text;
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Resolves with the first match of `pattern` in the stream; rejects if the process exits or the guard passes first. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, guardMs = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this[stream].match(pattern);
        if (match) finish(() => resolve(match));
        else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          finish(() => reject(new Error(`process exited (${this.child.exitCode}) before ${stream} matched ${pattern}:\n${this.stdout}\n${this.stderr}`)));
        }
      };
      const guard = setTimeout(() => finish(() => reject(new Error(`${stream} did not match ${pattern} within ${guardMs} ms:\n${this[stream]}`))), guardMs);
      const finish = (settle: () => void) => {
        clearTimeout(guard);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }
}

export const startCli = (args: string[], env: Record<string, string> = {}, stdin?: string): CliProcess => new CliProcess(args, env, stdin);
export const cli = (args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> => startCli(args, env, stdin).exited;
