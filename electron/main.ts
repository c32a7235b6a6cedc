import * as electron from 'electron';
import { APP_SCHEME_PRIVILEGES } from './app-protocol.js';
import { readLaunchEnv } from './launch-env.js';
import { startShell } from './shell.js';
import { acquireSingleInstance } from './single-instance.js';

const { app, protocol } = electron;
const launch = readLaunchEnv(process.env, process.argv, (message) => console.warn(message));
if (launch.userData) app.setPath('userData', launch.userData);

let showWindow: (() => void) | null = null;
if (!acquireSingleInstance(app, () => showWindow?.())) {
  app.quit();
} else {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
  app
    .whenReady()
    .then(() => startShell(electron, launch))
    .then((shell) => {
      showWindow = shell.showWindow;
    })
    .catch((error: unknown) => {
      console.error('Greenlight failed to start:', error);
      app.exit(1);
    });
}
