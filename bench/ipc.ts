import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, '..');

/** Messages to the server process (a bare Socket.IO server or a hub in its own process). */
export type ServerCommand =
  | { type: 'start-bare' }
  /** A bare fastify endpoint that parses a JSON body and answers with `reply`: the HTTP floor. */
  | { type: 'start-bare-http'; reply: unknown }
  /** `sqliteSync` defaults to the hub's own default (NORMAL). */
  | { type: 'start-hub'; dataDir: string; policyFile: string | null; databaseUrl: string | null; adminToken: string; sqliteSync?: 'NORMAL' | 'FULL'; notifiers?: unknown }
  /** The outbox floor: `count` bare HTTP POSTs of `body` to `url`, `concurrency` at a time, each stamped `x-t0` when sent. */
  | { type: 'http-post-floor'; url: string; body: string; count: number; concurrency: number }
  /** The bare server answers `requests:sync` with this payload from now on (the sync floor). */
  | { type: 'set-sync-reply'; reply: unknown }
  | { type: 'rss' }
  /** The most resident memory the process has held at any moment since it started. */
  | { type: 'max-rss' }
  | { type: 'cpu' }
  /** Starts recording this process's event-loop delay (perf_hooks.monitorEventLoopDelay). */
  | { type: 'loop-delay-start' }
  /** Stops recording and answers with what was recorded since the start. */
  | { type: 'loop-delay-stop' }
  | { type: 'stop' };

/** Messages to the clients process (N Socket.IO clients that record when events arrive). */
export type ClientsCommand =
  | { type: 'connect'; url: string; tokens: string[]; events: string[] }
  | { type: 'collect' }
  /** Answers once `count` events have arrived since the last collect (or after `timeoutMs`), with how many did. */
  | { type: 'await-received'; count: number; timeoutMs: number }
  /**
   * Every open socket closes; once the server has had `pauseMs` to notice, all of them reconnect at
   * once and each sends `requests:sync` on connect, as HubClient does. Answers when every sync was
   * acknowledged (or after `timeoutMs`).
   */
  | { type: 'storm'; pauseMs: number; timeoutMs: number }
  | { type: 'close' };

export interface ServerReply {
  url?: string;
  rss?: number;
  maxRss?: number;
  /** User + system CPU time of the server process so far, in microseconds. */
  cpuMicros?: number;
  loopDelay?: LoopDelay;
  error?: string;
}

/** Event-loop delay beyond the monitor's own timer interval, in ms. */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  /** How many samples (timer turns) the histogram holds. */
  count: number;
}

/** What a reconnect storm measured at the clients. */
export interface StormReply {
  /** From the first reconnect to the last sync acknowledged, in ms. */
  ms: number;
  synced: number;
  /** Fewest and most requests in one client's inbox. */
  minInbox: number;
  maxInbox: number;
  failed: number;
}

export interface ClientsReply {
  connected?: number;
  /** Per received event: arrival wall time minus the `t0` the payload carried, in ms. */
  latencies?: number[];
  received?: number;
  storm?: StormReply;
  error?: string;
}

interface Envelope<T> {
  id: number;
  body: T;
}

/**
 * A forked child (TypeScript through tsx) spoken to with request/reply messages over IPC.
 * `execArgv` lets a run add --cpu-prof or --expose-gc to a child.
 */
export class Child<Command, Reply extends { error?: string }> {
  private readonly child: ChildProcess;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private exited = false;

  constructor(script: string, execArgv: string[] = []) {
    this.child = fork(path.join(BENCH_DIR, script), [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx', ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.child.on('message', (message: Envelope<Reply>) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.body.error) waiter.reject(new Error(`${script}: ${message.body.error}`));
      else waiter.resolve(message.body);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${script} exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Kills the child outright (SIGKILL), as a crash or an OOM kill would; resolves once it has exited. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }

  call(command: Command): Promise<Reply> {
    if (this.exited) return Promise.reject(new Error('child process has exited'));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, body: command } satisfies Envelope<Command>);
    });
  }

  /** Asks the child to stop, and kills it if it has not exited within a few seconds. */
  async close(command: Command): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    // Both timers are cleared: a pending one would keep the bench process alive 5 s after its last child.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([this.call(command).catch(() => undefined), new Promise((resolve) => (grace = setTimeout(resolve, 5000)))]);
    clearTimeout(grace);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Child side: answers each command with the handler's reply, or its error message. */
export function serve<Command, Reply extends { error?: string }>(handler: (command: Command) => Promise<Reply>): void {
  process.on('message', (message: Envelope<Command>) => {
    handler(message.body).then(
      (body) => process.send?.({ id: message.id, body }),
      (error: unknown) => process.send?.({ id: message.id, body: { error: error instanceof Error ? (error.stack ?? error.message) : String(error) } }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

export type ServerChild = Child<ServerCommand, ServerReply>;
export type ClientsChild = Child<ClientsCommand, ClientsReply>;

export const startServerChild = (execArgv: string[] = []): ServerChild => new Child<ServerCommand, ServerReply>('server-process.ts', ['--expose-gc', ...execArgv]);
export const startClientsChild = (): ClientsChild => new Child<ClientsCommand, ClientsReply>('clients-process.ts');
