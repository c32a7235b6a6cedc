import net from 'node:net';
import type { AddressInfo } from 'node:net';

type Mode = 'open' | 'held' | 'blackhole' | 'cut' | 'listeners only';

/**
 * A TCP relay between a client and the hub, to make the network fail the ways it does:
 * `blackhole()` keeps connections open but drops every byte (a dead Wi-Fi link), `cut()` tears
 * them down and refuses new ones (the link is gone and both ends have timed out), `restore()`
 * lets traffic through again. Between a client and PostgreSQL, `keepOnlyListeners()` cuts the
 * connections but those that sent a LISTEN, and refuses new ones. `hold()` keeps every byte back
 * until `restore()` delivers it: a database that stalls, then answers. `strandOpenConnections()`
 * silences the connections open now for good and lets new ones through: a laptop that slept, whose
 * old connections died unnoticed while its network works again.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket; listening: boolean; stranded: boolean }>();
  private readonly heldBack: Array<{ to: net.Socket; chunk: Buffer }> = [];
  private mode: Mode = 'open';
  port = 0;

  constructor(private readonly targetPort: number, private readonly targetHost = '127.0.0.1') {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Connections stay up, but nothing gets through in either direction. */
  blackhole(): void {
    this.mode = 'blackhole';
  }

  /** Every connection is torn down and new ones are refused. */
  cut(): void {
    this.mode = 'cut';
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Connections that sent a PostgreSQL LISTEN stay up; every other one is torn down, and new ones are refused. */
  keepOnlyListeners(): void {
    this.mode = 'listeners only';
    for (const pair of this.pairs) {
      if (pair.listening) continue;
      pair.client.destroy();
      pair.upstream.destroy();
      this.pairs.delete(pair);
    }
  }

  /** Connections stay up and new ones are taken, but nothing is delivered until `restore()`. */
  hold(): void {
    this.mode = 'held';
  }

  /** The connections open now stay up but carry nothing ever again; new ones work as the mode says. */
  strandOpenConnections(): void {
    for (const pair of this.pairs) pair.stranded = true;
  }

  restore(): void {
    this.mode = 'open';
    for (const { to, chunk } of this.heldBack.splice(0)) if (!to.destroyed) to.write(chunk);
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** Connections not stranded: those that still carry bytes. */
  get liveConnections(): number {
    return [...this.pairs].filter((pair) => !pair.stranded).length;
  }

  async close(): Promise<void> {
    this.cut();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.mode === 'cut' || this.mode === 'listeners only') {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    const pair = { client, upstream, listening: false, stranded: false };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    const passes = () => !pair.stranded && (this.mode === 'open' || (this.mode === 'listeners only' && pair.listening));
    client.on('data', (chunk: Buffer) => {
      if (!pair.listening && chunk.includes('LISTEN ')) pair.listening = true;
      if (pair.stranded) return;
      if (this.mode === 'held') this.heldBack.push({ to: upstream, chunk });
      else if (passes()) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (pair.stranded) return;
      if (this.mode === 'held') this.heldBack.push({ to: client, chunk });
      else if (passes()) client.write(chunk);
    });
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}
