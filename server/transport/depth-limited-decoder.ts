import { Decoder } from 'socket.io-parser';
import { LIMITS } from '../../protocol/index.js';
import { jsonNestsDeeperThan } from './json-depth.js';

/**
 * Socket.IO's decoder, refusing a packet whose arguments nest deeper than an HTTP body may (the
 * arguments' own array is one level more). Every handler, and Socket.IO's rebuilding of binary
 * attachments, would otherwise walk input of any depth. A refused packet closes that connection,
 * as one over the size limit does; no client of the hub ever sends one.
 */
export class DepthLimitedDecoder extends Decoder {
  override add(chunk: unknown): void {
    if (typeof chunk === 'string' && jsonNestsDeeperThan(chunk.slice(jsonStart(chunk)), LIMITS.jsonDepth + 1)) {
      throw new Error(`packet nests arrays and objects more than ${LIMITS.jsonDepth} deep`);
    }
    super.add(chunk);
  }
}

/**
 * Where a packet's JSON begins, read as socket.io-parser reads its header: a type digit, an attachment
 * count ending in `-`, a namespace from `/` to `,`, an ack id of digits. Only the JSON is counted, so a
 * namespace holding `"` or `]` cannot hide the payload's brackets from the count.
 */
function jsonStart(packet: string): number {
  let index = 1;
  const type = packet.charAt(0);
  if (type === '5' || type === '6') {
    const dash = packet.indexOf('-', index);
    if (dash !== -1) index = dash + 1;
  }
  if (packet.charAt(index) === '/') {
    const comma = packet.indexOf(',', index);
    index = comma === -1 ? packet.length : comma + 1;
  }
  while (index < packet.length && packet.charCodeAt(index) >= 0x30 && packet.charCodeAt(index) <= 0x39) index++;
  return index;
}
