import type { DesktopApi } from '../../../protocol/desktop-api.js';
import type { Bridge } from './bridge.js';
import { DesktopBridge } from './desktop-bridge.js';
import { WebBridge } from './web-bridge.js';

declare global {
  interface Window {
    /** Present only inside the desktop app, exposed by its preload. */
    greenlight?: DesktopApi;
  }
}

export function selectBridge(): Bridge {
  return window.greenlight ? new DesktopBridge(window.greenlight) : new WebBridge();
}
