import { Decoder, Encoder, PacketType, type Packet } from 'socket.io-parser';
import { DepthLimitedDecoder } from './depth-limited-decoder.js';

/**
 * An acknowledgement's one argument, already encoded as JSON text. A large answer (a sync of
 * thousands of requests) is encoded piece by piece in turns and sent as is, instead of being walked
 * and stringified in one go by Socket.IO while every other client waits.
 */
export class EncodedAnswer {
  constructor(readonly json: string) {}
}

/**
 * Socket.IO's own encoder, except for an ack whose one argument is an `EncodedAnswer`: that is written
 * from its text in Socket.IO's packet format (type, namespace unless `/`, ack id, the arguments as a
 * JSON array), so clients see exactly what the stock encoder would have sent.
 */
class EncoderOfEncodedAnswers extends Encoder {
  override encode(packet: Packet): unknown[] {
    const answer: unknown = packet.type === PacketType.ACK && Array.isArray(packet.data) && packet.data.length === 1 ? packet.data[0] : undefined;
    if (!(answer instanceof EncodedAnswer)) return super.encode(packet);
    const namespace = packet.nsp && packet.nsp !== '/' ? `${packet.nsp},` : '';
    return [`${PacketType.ACK}${namespace}${packet.id ?? ''}[${answer.json}]`];
  }
}

/** The hub's Socket.IO parser: the stock encoder that also sends `EncodedAnswer`s, and the stock decoder with a depth limit. */
export const hubParser = { Encoder: EncoderOfEncodedAnswers, Decoder: DepthLimitedDecoder } satisfies { Encoder: typeof Encoder; Decoder: typeof Decoder };
