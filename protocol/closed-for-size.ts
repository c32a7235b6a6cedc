/**
 * Whether socket.io-client's description of a closed connection says the hub would not take a message
 * that large. Socket.IO answers such a message only by closing the connection (socketio/engine.io#706):
 * over WebSocket with close code 1009, "message too big" (RFC 6455), over long polling by answering
 * the POST 413.
 */
export function closedForSize(description: unknown): boolean {
  if (typeof description !== 'object' || description === null) return false;
  const { context, description: status } = description as { context?: unknown; description?: unknown };
  if (status === 413) return true;
  return typeof context === 'object' && context !== null && (context as { code?: unknown }).code === 1009;
}
