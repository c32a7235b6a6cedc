import { createReadStream } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { createBackup } from '../../domain/backup.js';
import type { HttpDeps } from '../http-deps.js';
import { rotateSigningKey } from '../../domain/key-rotation.js';
import { routeDoc } from '../route-docs.js';

const docs = {
  backup: routeDoc({
    summary: 'Download a consistent copy of the SQLite database',
    description:
      "SQLite's online backup of the running hub: requests keep being served while it is made. The copy holds the grant-signing key and " +
      'token hashes: keep it as you keep secrets. Audited as `backup.created`. Hubs on PostgreSQL answer 400: use pg_dump.',
    tag: 'operations',
    auth: 'admin',
    responses: { 200: { description: 'The database file (SQLite format 3)', content: { 'application/vnd.sqlite3': { schema: z.string().meta({ format: 'binary' }) } } } },
  }),
  rotate: routeDoc({
    summary: 'Rotate the grant signing key',
    description:
      'A new key signs grants from now on. The old one stays in `/.well-known/jwks.json` until every grant it signed has expired, then it is deleted. Audited as `signing_key.rotated`.',
    tag: 'operations',
    auth: 'admin',
    responses: { 200: z.object({ kid: z.string(), retired: z.array(z.string()) }) },
  }),
};

export const adminRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.post('/api/v1/admin/backup', { schema: docs.backup, config: { scope: 'admin' } }, async (request, reply) => {
    const { actor } = request;
    const backup = await createBackup(deps.ctx, actor);
    // The temporary copy goes once the answer is sent, or the client gives up.
    reply.raw.once('close', () => void backup.discard());
    const stamp = deps.ctx.clock.now().toISOString().replace(/[:.]/g, '-');
    reply.header('content-disposition', `attachment; filename="greenlight-${stamp}.db"`);
    reply.header('content-length', backup.bytes);
    reply.type('application/vnd.sqlite3');
    return reply.send(createReadStream(backup.file));
  });

  app.post('/api/v1/admin/signing-keys/rotate', { schema: docs.rotate, config: { scope: 'admin' } }, async (request) => rotateSigningKey(deps.ctx, request.actor));
};
