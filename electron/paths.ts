import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Theme, TrayStatus } from './tray-state.js';

// Compiled main lives at <root>/dist/electron/electron/; the same layout holds inside app.asar.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const PATHS = {
  root,
  rendererDist: join(root, 'renderer', 'dist'),
  preload: join(root, 'dist', 'electron', 'electron', 'preload', 'preload.js'),
  appIcon: join(root, 'assets', 'icon.png'),
  trayIcon: (status: TrayStatus, theme: Theme) => join(root, 'assets', 'tray', `${status}-${theme}.png`),
};
