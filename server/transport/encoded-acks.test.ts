import { Decoder, Encoder, PacketType, type Packet } from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { EncodedAnswer, hubParser } from './encoded-acks.js';

/** What a Socket.IO client's decoder makes of the encoder's output for one packet. */
function decoded(encoder: Encoder, packet: Packet): Packet[] {
  const decoder = new Decoder();
  const packets: Packet[] = [];
  decoder.on('decoded', (decodedPacket: Packet) => packets.push(decodedPacket));
  for (const piece of encoder.encode(packet)) decoder.add(piece as string);
  return packets;
}

const answer = { data: { inbox: [{ id: 'req_1', reason: 'naïve "quoted" \u2028 line', risk: 'high' }], mine: [], serverTime: '2026-12-06T00:00:00.000Z' } };

describe('the hub’s Socket.IO encoder', () => {
  const hub = new hubParser.Encoder();
  const stock = new Encoder();

  it.each(['/', '/admin'])('writes an ack whose one argument is already encoded exactly as the stock encoder writes the object (namespace %s)', (nsp) => {
    const encoded = hub.encode({ type: PacketType.ACK, nsp, id: 42, data: [new EncodedAnswer(JSON.stringify(answer))] });
    expect(encoded).toEqual(stock.encode({ type: PacketType.ACK, nsp, id: 42, data: [answer] }));
    expect(decoded(hub, { type: PacketType.ACK, nsp, id: 42, data: [new EncodedAnswer(JSON.stringify(answer))] })).toEqual([{ type: PacketType.ACK, nsp, id: 42, data: [answer] }]);
  });

  it('writes an ack id of 0, and a packet without an id, as the stock encoder does', () => {
    for (const id of [0, undefined]) {
      const packet = { type: PacketType.ACK, nsp: '/', ...(id === undefined ? {} : { id }) };
      expect(hub.encode({ ...packet, data: [new EncodedAnswer(JSON.stringify(answer))] })).toEqual(stock.encode({ ...packet, data: [answer] }));
    }
  });

  it('leaves every other packet to the stock encoder, binary attachments included', () => {
    const event: Packet = { type: PacketType.EVENT, nsp: '/', data: ['request:created', answer] };
    expect(hub.encode(event)).toEqual(stock.encode(event));
    expect(hub.encode({ type: PacketType.ACK, nsp: '/', id: 7, data: [{ file: Buffer.from('log') }] })).toHaveLength(2);
    const binary: Packet = { type: PacketType.ACK, nsp: '/', id: 7, data: [{ file: Buffer.from('log') }] };
    expect(decoded(hub, binary)).toEqual([{ type: PacketType.ACK, nsp: '/', id: 7, data: [{ file: Buffer.from('log') }] }]);
    const twoArguments: Packet = { type: PacketType.ACK, nsp: '/', id: 8, data: [new EncodedAnswer('{"a":1}'), 2] };
    expect(hub.encode(twoArguments)).toEqual(stock.encode(twoArguments));
  });
});
