import pg from 'pg';

/** The channel hubs sharing a PostgreSQL database talk on: the Socket.IO adapter's, for namespace "/". */
export const HUB_CHANNEL = 'socket.io#/';

/** Listens where the hubs talk, as anyone who can connect to their database may; `payloads` fills as they talk. */
export async function listenToHubs(databaseUrl: string): Promise<{ payloads: string[]; close(): Promise<void> }> {
  const payloads: string[] = [];
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  client.on('notification', (message) => payloads.push(message.payload ?? ''));
  await client.query(`LISTEN "${HUB_CHANNEL}"`);
  return { payloads, close: () => client.end() };
}

/** Sends adapter messages on the hubs' channel as a forger would, each from a hub that is not one. */
export async function sendOnHubChannel(databaseUrl: string, messages: object[]): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const message of messages) await client.query('select pg_notify($1, $2)', [HUB_CHANNEL, JSON.stringify({ uid: 'forger', nsp: '/', ...message })]);
  } finally {
    await client.end();
  }
}
