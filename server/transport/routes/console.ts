import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';
import { sameOriginPolicy } from '../content-security-policy.js';
import { inProject } from '../../project-root.js';

export const CONSOLE_CSP = sameOriginPolicy();

/**
 * The app icon; the page links its own hashed copy, this answers browsers and tools that ask for
 * /favicon.ico anyway. Found from the project root: the build moves this module into dist/server/chunks.
 */
const APP_ICON = inProject('assets', 'icon.png');

/** The web console: the built renderer, with a strict CSP; hashed assets are cached for good, the page never. */
export const consoleRoutes: FastifyPluginAsync<{ dir: string }> = async (app, { dir }) => {
  if (!existsSync(path.join(dir, 'index.html'))) return;
  if (APP_ICON && existsSync(APP_ICON)) {
    const icon = readFileSync(APP_ICON);
    app.get('/favicon.ico', async (_request, reply) => reply.type('image/png').header('cache-control', 'public, max-age=86400').header('x-content-type-options', 'nosniff').send(icon));
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    cacheControl: false,
    setHeaders(res, file) {
      res.setHeader('content-security-policy', CONSOLE_CSP);
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
};
