import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for a network that loses one answer: it passes calls through to `hubUrl`, but for the
 * first call `drops` picks it lets the hub answer and then cuts the connection before the answer
 * reaches the caller, so the hub did the work and the caller cannot know.
 */
export async function answerLosingProxy(hubUrl: string, drops: (incoming: http.IncomingMessage) => boolean): Promise<{ url: string; dropped: () => boolean; close: () => Promise<void> }> {
  let dropped = false;
  const proxy = http.createServer((incoming, outgoing) => {
    const upstream = http.request(`${hubUrl}${incoming.url}`, { method: incoming.method, headers: incoming.headers }, (answer) => {
      if (!dropped && drops(incoming)) {
        dropped = true;
        answer.resume();
        answer.on('end', () => incoming.socket.destroy());
        return;
      }
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    dropped: () => dropped,
    close: () => new Promise((resolve) => proxy.close(() => resolve())),
  };
}
