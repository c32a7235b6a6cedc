import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the Electron binary is, or why these specs can't run here. Never calls require('electron'),
 * which would try to download the binary.
 */
export function findElectron(): { executablePath: string; reason: null } | { executablePath: null; reason: string } {
  const pkg = path.resolve('node_modules/electron');
  if (!existsSync(path.join(pkg, 'package.json'))) return { executablePath: null, reason: 'the electron package is not installed' };
  const pathFile = path.join(pkg, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const executablePath = override ? path.join(override, relative || 'electron') : relative ? path.join(pkg, 'dist', relative) : null;
  if (!executablePath) return { executablePath: null, reason: 'the binary was never downloaded (node_modules/electron/path.txt is missing)' };
  if (!existsSync(executablePath)) return { executablePath: null, reason: `${executablePath} does not exist` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { executablePath: null, reason: 'no display (run the suite under xvfb-run)' };
  }
  if (!existsSync(path.resolve('dist/electron/electron/main.js')) || !existsSync(path.resolve('renderer/dist/index.html'))) {
    return { executablePath: null, reason: 'the app is not built (run npm run build first)' };
  }
  return { executablePath, reason: null };
}
