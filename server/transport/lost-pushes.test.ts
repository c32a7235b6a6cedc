import { describe, expect, it } from 'vitest';
import { MessageType } from 'socket.io-adapter';
import { mayCarryNews } from './lost-pushes.js';

describe('which failed cross-hub messages count as lost pushes', () => {
  it('does not count a heartbeat or a hub closing, whose loss no client can notice', () => {
    for (const type of [MessageType.INITIAL_HEARTBEAT, MessageType.HEARTBEAT, MessageType.ADAPTER_CLOSE]) {
      expect(mayCarryNews(JSON.stringify({ uid: 'hub-a', nsp: '/', type }))).toBe(false);
    }
  });

  it('counts a broadcast, an event for the other hubs, and anything it cannot read', () => {
    expect(mayCarryNews(JSON.stringify({ uid: 'hub-a', nsp: '/', type: MessageType.BROADCAST, data: { packet: {} } }))).toBe(true);
    expect(mayCarryNews(JSON.stringify({ uid: 'hub-a', nsp: '/', type: MessageType.SERVER_SIDE_EMIT, data: { packet: ['request:event', {}] } }))).toBe(true);
    expect(mayCarryNews('not json')).toBe(true);
    expect(mayCarryNews(JSON.stringify({ type: 'heartbeat' }))).toBe(true);
  });
});
