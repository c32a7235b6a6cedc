import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { LIMITS, type SyncResult } from '../protocol/index.js';
import { capturedLog } from './test-support/captured-log.js';
import { TestHub, type TestUser } from './test-support/hub-fixture.js';
import { DepthLimitedDecoder } from './transport/depth-limited-decoder.js';

/**
 * Packets written as raw Socket.IO text: the client's own encoder would walk a deep payload itself.
 * `2` is an event, `5` an event with binary attachments; the number after it is the ack id.
 */
describe('socket packets nested deeper than any request needs', () => {
  const log = capturedLog<{ level: number; msg: string; user?: string; reason?: string }>();
  const hub = new TestHub('sqlite', { logger: log.logger });
  let alice: TestUser;
  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
  });
  afterAll(() => hub.dispose());

  const connect = async (): Promise<Socket> => {
    const socket = io(hub.url, { auth: { token: alice.token }, forceNew: true, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  };

  /** Writes one raw packet; resolves with the raw ack the hub sends for id 9, or with why the connection closed. */
  const sendRaw = (socket: Socket, packet: string, attachment?: ArrayBuffer): Promise<string> => {
    const engine = (socket.io as unknown as { engine: { write(data: string | ArrayBuffer): void; on(event: 'message', listener: (data: unknown) => void): void } }).engine;
    return new Promise((resolve) => {
      engine.on('message', (data) => {
        if (typeof data === 'string' && data.startsWith('39')) resolve(`ack ${data.slice(2)}`);
      });
      socket.once('disconnect', (reason) => resolve(`closed: ${reason}`));
      engine.write(packet);
      if (attachment) engine.write(attachment);
    });
  };
  const nested = (depth: number, leaf: string) => '['.repeat(depth) + leaf + ']'.repeat(depth);

  it('logs nothing for an "error" event a client emits: only packets the hub could not read are logged', async () => {
    const socket = await connect();
    const before = log.warnings().length;
    socket.emit('error', { message: 'made up' });
    // Answered after the hub has handled the packet before it.
    await socket.timeout(10_000).emitWithAck('requests:sync', {});
    expect(socket.connected).toBe(true);
    expect(log.warnings().slice(before)).toEqual([]);
    socket.close();
  });

  it('answers a packet as deep as an HTTP body may be with the usual INVALID_INPUT', async () => {
    const socket = await connect();
    const answer = await sendRaw(socket, `29["request:submit",${nested(LIMITS.jsonDepth, '1')}]`);
    expect(answer).toMatch(/^ack \[\{"error":\{"code":"INVALID_INPUT"/);
    expect(socket.connected).toBe(true);
    socket.close();
  });

  it.each([
    ['an event', 200_000, (deep: string) => `29["request:submit",${deep}]`, undefined],
    ['an event with a binary attachment', 20_000, (deep: string) => `51-9["request:submit",${deep}]`, new Uint8Array([1, 2, 3]).buffer],
  ])('closes the connection that sends %s nested past the limit; the hub and other connections carry on', async (_kind, depth, packet, attachment) => {
    const bystander = await connect();
    const offender = await connect();
    // An attachment's placeholder is an object: a level of its own.
    const [leaf, leafLevels] = attachment ? ['{"_placeholder":true,"num":0}', 1] : ['1', 0];
    expect(await sendRaw(offender, packet(nested(depth, leaf)), attachment)).toBe('closed: transport close');
    // One level past the limit is enough: the argument list, then 33 levels.
    const next = await connect();
    expect(await sendRaw(next, packet(nested(LIMITS.jsonDepth + 1 - leafLevels, leaf)), attachment)).toBe('closed: transport close');
    expect((await hub.api('GET', '/healthz', null)).status).toBe(200);
    // The admin can see why the connection went, and whose it was.
    expect(log.warnings().filter((line) => line.msg === 'closed a connection whose packet could not be read').slice(-2)).toEqual([
      expect.objectContaining({ user: 'alice', reason: `packet nests arrays and objects more than ${LIMITS.jsonDepth} deep` }),
      expect.objectContaining({ user: 'alice', reason: `packet nests arrays and objects more than ${LIMITS.jsonDepth} deep` }),
    ]);
    const synced = (await bystander.timeout(10_000).emitWithAck('requests:sync', {})) as { data?: SyncResult };
    expect(synced.data?.mine).toEqual([]);
    bystander.close();
  });
});

describe('the depth check reads only the JSON of a packet', () => {
  const deep = '['.repeat(10_000) + '{"_placeholder":true,"num":0}' + ']'.repeat(10_000);
  const refusal = `packet nests arrays and objects more than ${LIMITS.jsonDepth} deep`;

  it.each([
    ['no namespace', `51-["x",${deep}]`],
    ['a namespace and an ack id', `51-/admin,12["x",${deep}]`],
    // A quote in the namespace would put the whole payload "inside a string" for a scan of the whole packet.
    ['a namespace holding a quote', `51-/",["x",${deep}]`],
    // Closing brackets in the namespace would take the count below zero first.
    ['a namespace of closing brackets', `51-/${']'.repeat(10_000)},["x",${deep}]`],
  ])('refuses a deep binary packet with %s before Socket.IO rebuilds it', (_kind, packet) => {
    expect(() => new DepthLimitedDecoder().add(packet)).toThrow(refusal);
  });

  it('lets a packet as deep as the limit through to the stock decoder', () => {
    const decoder = new DepthLimitedDecoder();
    const decoded: unknown[] = [];
    decoder.on('decoded', (packet: unknown) => decoded.push(packet));
    decoder.add(`2/",7["x",${'['.repeat(LIMITS.jsonDepth)}${']'.repeat(LIMITS.jsonDepth)}]`);
    expect(decoded).toHaveLength(1);
  });
});
