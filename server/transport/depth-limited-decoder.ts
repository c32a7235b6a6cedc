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
    if (typeof chunk === 'string' && jsonNestsDeeperThan(chunk, LIMITS.jsonDepth + 1)) {
      throw new Error(`packet nests arrays and objects more than ${LIMITS.jsonDepth} deep`);
    }
    super.add(chunk);
  }
}
