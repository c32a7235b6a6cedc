#!/usr/bin/env node
// `npm start`: builds what changed, starts a hub on the embedded SQLite data directory (an admin is
// bootstrapped on first run), and launches the desktop app signed in to it. Where no Electron binary
// exists, says so in one line and keeps the hub running for the web console. Arguments after `--`
// go to the hub (`npm start -- --policy ./policy.yaml`); GREENLIGHT_POLICY works like --policy.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hubArguments, shellWord } from './start-args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// npm runs scripts from the package folder; paths the user typed are relative to where they typed them.
const userCwd = process.env.INIT_CWD || process.cwd();
const { port: portArg, dataDirArg, policyArg, passThrough } = hubArguments(process.argv.slice(2));
const port = Number(portArg ?? process.env.GREENLIGHT_PORT ?? 7300);
const hubUrl = `http://127.0.0.1:${port}`;
const dataDir = dataDirArg
  ? resolve(userCwd, dataDirArg)
  : process.env.GREENLIGHT_DATA_DIR ||
    join(process.env.XDG_DATA_HOME && isAbsolute(process.env.XDG_DATA_HOME) ? process.env.XDG_DATA_HOME : join(homedir(), '.local', 'share'), 'greenlight');
const policyFile = policyArg || process.env.GREENLIGHT_POLICY ? resolve(userCwd, policyArg || process.env.GREENLIGHT_POLICY) : null;

const say = (line) => console.log(`[greenlight] ${line}`);
const fail = (line) => {
  console.error(`[greenlight] ${line}`);
  process.exit(1);
};

/** Newest modification time under the given paths (0 when none exist). */
function newest(...paths) {
  let latest = 0;
  const visit = (path) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) if (entry !== 'node_modules' && entry !== 'dist') visit(join(path, entry));
    } else latest = Math.max(latest, stat.mtimeMs);
  };
  paths.forEach(visit);
  return latest;
}

function build(name, script, sources, output) {
  const outputTime = existsSync(output) ? statSync(output).mtimeMs : 0;
  if (outputTime >= newest(...sources.map((source) => join(root, source)))) return;
  say(`building ${name}…`);
  const result = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', script], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail(`building ${name} failed (npm run ${script}); fix the errors above and run npm start again`);
}

/** The Electron executable, or why there is none; never triggers electron's download-on-require. */
function findElectron() {
  const pkg = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkg, 'package.json'))) return { reason: 'the electron package is not installed' };
  const pathFile = join(pkg, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) return { path: join(override, relative || 'electron') };
  if (!relative) return { reason: 'the Electron binary was never downloaded (node_modules/electron/path.txt is missing)' };
  const executable = join(pkg, 'dist', relative);
  return existsSync(executable) ? { path: executable } : { reason: `${executable} does not exist` };
}

async function healthy() {
  try {
    return (await fetch(`${hubUrl}/healthz`)).ok;
  } catch {
    return false;
  }
}

const children = new Set();
function stopAll(code = 0) {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  if (children.size === 0) process.exit(code);
  Promise.all([...children].map((child) => (child.exitCode !== null ? null : new Promise((resolve) => child.once('exit', resolve))))).then(() => process.exit(code));
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

build('the web console', 'build:renderer', ['renderer/src', 'renderer/index.html', 'renderer/vite.config.ts', 'protocol'], join(root, 'renderer', 'dist', 'index.html'));
build('the desktop shell', 'build:electron', ['electron', 'protocol'], join(root, 'dist', 'electron', 'electron', 'main.js'));
build('the hub', 'build:server', ['server', 'protocol', 'scripts/build-server.mjs'], join(root, 'dist', 'server', 'greenlight.mjs'));

mkdirSync(dataDir, { recursive: true });
if (await healthy()) {
  say(`a hub already answers on ${hubUrl}; using it`);
} else {
  say(`starting the hub on ${hubUrl} (data in ${dataDir})`);
  const hubArgs = ['hub', '--port', String(port), '--data-dir', dataDir, ...(policyFile ? ['--policy', policyFile] : []), ...passThrough];
  const hub = spawn(process.execPath, [join(root, 'bin', 'greenlight.mjs'), ...hubArgs], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.add(hub);
  hub.once('exit', (code) => {
    children.delete(hub);
    say(`the hub stopped (exit ${code ?? 'signal'})`);
    stopAll(code ?? 1);
  });
  const deadline = Date.now() + 60_000;
  while (!(await healthy())) {
    if (hub.exitCode !== null) fail('the hub exited before it was ready; see its log above');
    if (Date.now() > deadline) fail(`the hub did not answer ${hubUrl}/healthz within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const tokenFile = join(dataDir, 'admin-token');
const token = process.env.GREENLIGHT_ADMIN_TOKEN || (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '');
if (!token) say(`no admin token in ${tokenFile} or GREENLIGHT_ADMIN_TOKEN; the app will ask you to sign in`);
printNextSteps();

/** Where things are, and the next three commands, against this very hub so users and tokens carry over. */
function printNextSteps() {
  const adminToken = process.env.GREENLIGHT_ADMIN_TOKEN ? '"$GREENLIGHT_ADMIN_TOKEN"' : `"$(cat ${shellWord(tokenFile)})"`;
  const lines = [
    `Web console: ${hubUrl}/`,
    process.env.GREENLIGHT_ADMIN_TOKEN ? 'Admin token: the one in GREENLIGHT_ADMIN_TOKEN' : `Admin token: in ${tokenFile} (sign in as admin with it)`,
    `Policy: ${policyFile ?? join(dataDir, 'policy.yaml')}`,
    `Next, in another terminal in ${root}:`,
    `  export GREENLIGHT_HUB=${hubUrl} GREENLIGHT_TOKEN=${adminToken}`,
    '  npx greenlight user add bob --role approver --group approvers    # prints bob\'s token: sign in to the console with it',
    '  ALICE=$(npx greenlight user add alice --role requester)',
    '  GREENLIGHT_TOKEN=$ALICE npx greenlight request --action deploy --resource payments-api --env production --reason "first try" --wait',
  ];
  for (const line of lines) say(line);
}

const electron = findElectron();
if (!electron.path) {
  say(`No Electron binary on this machine (${electron.reason}), so the desktop app can't start here; the hub keeps running: open the web console at ${hubUrl}/ (Ctrl+C to stop).`);
} else {
  say(`launching the desktop app signed in to ${hubUrl}`);
  const app = spawn(electron.path, [root], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, GREENLIGHT_HUB: hubUrl, ...(token ? { GREENLIGHT_TOKEN: token } : {}) },
  });
  children.add(app);
  app.once('exit', (code) => {
    children.delete(app);
    say('the desktop app quit; stopping the hub');
    stopAll(code ?? 0);
  });
}
