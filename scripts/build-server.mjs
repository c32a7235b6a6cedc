#!/usr/bin/env node
// `npm run build:server`: compiles the hub and the CLI to JavaScript with esbuild, so nothing runs
// TypeScript at run time.
//
//   dist/server/greenlight.mjs  the full CLI (`greenlight hub`, migrate, backup…) with the npm packages it
//                               uses bundled in (loading one file instead of thousands more than halves the
//                               hub's start), except those that read their own files or are native, which
//                               load from node_modules; the hub and the database drivers are separate chunks,
//                               loaded only by the commands that need them.
//   dist/cli/greenlight.mjs     the standalone CLI for pipelines elsewhere: one file, every client-side
//                               dependency inside, no node_modules needed. Commands that need the hub's
//                               own code (hub, migrate, audit verify --data-dir) say to use the full install.
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const entry = path.join(root, 'server', 'cli', 'main.ts');

const common = {
  entryPoints: { greenlight: entry },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  sourcemap: 'linked',
  logLevel: 'warning',
  define: { __GREENLIGHT_VERSION__: JSON.stringify(version) },
  // Bundled CommonJS modules call require() for Node's built-ins and may mention __dirname; ESM has neither.
  banner: {
    js: [
      "import { createRequire as __greenlightRequire } from 'node:module';",
      "import { fileURLToPath as __greenlightPath } from 'node:url';",
      'const require = __greenlightRequire(import.meta.url);',
      'const __filename = __greenlightPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join('\n'),
  },
  metafile: true,
};

/** Builds into a fresh folder, then swaps it in, so a hub started from dist never sees half a build. */
async function buildInto(name, options) {
  const target = path.join(dist, name);
  const staging = path.join(dist, `.${name}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    const result = await build({ ...common, ...options, outdir: staging });
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
    return result;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * In the standalone CLI, a module the CLI loads on demand (`await import(...)`) from the hub's own
 * code (the hub, the store, the audit chain) becomes one that refuses with a usage error: those need
 * the database drivers, which a pipeline's one-file CLI does not carry.
 */
const clientOnly = {
  name: 'client-only',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\.\//, namespace: 'file' }, (args) => {
      if (args.kind !== 'dynamic-import' || !args.importer.startsWith(path.join(root, 'server', 'cli') + path.sep)) return undefined;
      return { path: args.path, namespace: 'full-install-only' };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'full-install-only' }, () => ({
      contents:
        `import { usageError } from ${JSON.stringify(path.join(root, 'server', 'cli', 'cli-error.ts'))};\n` +
        "throw usageError('this standalone greenlight CLI talks to a hub over HTTP; running a hub, migrations and offline audit checks need the full install (the greenlight package, or its container image)');\n",
      resolveDir: root,
      loader: 'ts',
    }));
  },
};

const started = performance.now();
// Left in node_modules: the native SQLite driver, pg's optional native binding, and the two plugins that
// serve files from their own package folder (the docs page's assets, the console's static files).
const SERVER_EXTERNAL = ['better-sqlite3', 'pg-native', '@fastify/swagger-ui', '@fastify/static'];
await buildInto('server', { external: SERVER_EXTERNAL, splitting: true, chunkNames: 'chunks/[name]-[hash]' });
const standalone = await buildInto('cli', { plugins: [clientOnly] });

// The standalone file must not have swallowed the hub: a sign the plugin above no longer matches.
const HUB_ONLY = ['better-sqlite3', 'pg', 'fastify', 'socket.io', 'kysely', 'pino'];
const bundled = Object.keys(standalone.metafile.inputs).filter((input) => HUB_ONLY.some((name) => input.includes(`node_modules/${name}/`)));
if (bundled.length) {
  console.error(`build-server: the standalone CLI bundled hub-only modules:\n  ${bundled.slice(0, 10).join('\n  ')}`);
  process.exit(1);
}
const ms = Math.round(performance.now() - started);
console.log(`built dist/server (hub and CLI) and dist/cli/greenlight.mjs (standalone CLI) in ${ms} ms`);
