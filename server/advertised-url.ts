import os from 'node:os';

/**
 * The address a hub gives the other hubs on its database to name it to their admins: its public URL
 * when configured, else its host name and port. Not the address it listens on: a hub bound to every
 * interface listens on 0.0.0.0, which says nothing, and hubs each bound to loopback would all show one.
 */
export function advertisedUrl(publicUrl: string | undefined, port: number, hostName: string = os.hostname()): string {
  return publicUrl ?? `http://${hostName}:${port}`;
}
