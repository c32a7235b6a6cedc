import type { Socket } from 'node:net';
import { GreenlightError, LIMITS, type ErrorCode, type WireError } from '../../protocol/index.js';

/**
 * What the hub answers when the request never reaches a route, or fastify itself refuses it: the
 * same `{error: {code, message}}` as every other error, and never any part of the request (a path,
 * a header, a body fragment) echoed back, since those may carry tokens.
 */

type FrameworkError = Error & { code?: string; statusCode?: number };

const MB = 1024 * 1024;

const wire = (code: ErrorCode, message: string): WireError => ({ code, message });

/** Where a JSON body broke, without quoting it (V8's message quotes the text around the problem). */
export function jsonProblem(error: Error): string {
  const position = /position (\d+)/.exec(error.message)?.[1];
  return position ? `The body is not valid JSON (near character ${position}).` : 'The body is not valid JSON.';
}

/** The wire error for an error fastify or one of its plugins raised; null for the hub's own errors. `bodyLimit` is the route's, when it has its own. */
export function mapFrameworkError(error: FrameworkError, bodyLimit?: number): WireError | null {
  if (error instanceof GreenlightError) return null;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      if (bodyLimit !== undefined && bodyLimit < LIMITS.bodyBytes) {
        return wire('PAYLOAD_TOO_LARGE', `This endpoint takes at most ${Math.floor(bodyLimit / 1024)} KB. For a larger payload, compute its payloadHash yourself (see the README) and compare it with the grant's.`);
      }
      return wire(
        'PAYLOAD_TOO_LARGE',
        `The request body is larger than ${LIMITS.bodyBytes / MB} MB. Diffs may be up to ${LIMITS.diffBytes / MB} MB and logs up to ${LIMITS.logsBytes / MB} MB; link to anything larger.`,
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return wire('INVALID_INPUT', jsonProblem(error));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
    case 'FST_ERR_CTP_EMPTY_TYPE':
      return wire('INVALID_INPUT', 'Send the body as JSON with "Content-Type: application/json".');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return wire('INVALID_INPUT', 'The Content-Length header does not match the body.');
    case 'FST_ERR_BAD_URL':
      return wire('INVALID_INPUT', 'The URL is not valid: a "%" must start a percent-encoded UTF-8 byte such as %20.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return wire('NOT_FOUND', 'No such endpoint: a part of the path is longer than any id the hub issues.');
    default:
      break;
  }
  if (error.statusCode === 429) return wire('RATE_LIMITED', error.message);
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return wire('INVALID_INPUT', `The hub could not accept this request (HTTP ${error.statusCode}).`);
  return null;
}

function rawReply(socket: Socket, status: number, reason: string, body: WireError): void {
  const text = JSON.stringify({ error: body });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

/**
 * Node's HTTP parser rejects some requests before fastify sees them: headers over its size limit, a
 * request line that isn't HTTP. Answered here in the hub's shape, when the socket can still take it.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    rawReply(socket, 431, 'Request Header Fields Too Large', wire('INVALID_INPUT', 'The request line and headers are larger than the hub accepts (16 KB in all): shorten the query string, the token or the cookies.'));
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'HPE_HEADERS_TIMEOUT') {
    rawReply(socket, 408, 'Request Timeout', wire('INVALID_INPUT', 'The request took too long to arrive.'));
  } else {
    rawReply(socket, 400, 'Bad Request', wire('INVALID_INPUT', 'The request is not well-formed HTTP/1.1.'));
  }
}
