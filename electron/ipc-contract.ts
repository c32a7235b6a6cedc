import type { DesktopApi, DesktopEvent } from '../protocol/desktop-api.js';

/** The request/response methods of the preload API; `onEvent` is a push channel, not a call. */
export type IpcMethod = Exclude<keyof DesktopApi, 'onEvent'>;

/**
 * One typed contract for main and preload: each channel's argument and result.
 * Derived from `DesktopApi`, so a method added there without a handler fails to type-check.
 */
export type IpcContract = {
  [M in IpcMethod]: {
    channel: `greenlight:${M}`;
    arg: Parameters<DesktopApi[M]>[0];
    result: Awaited<ReturnType<DesktopApi[M]>>;
  };
};

export type IpcChannel = IpcContract[IpcMethod]['channel'];

/** Main → renderer pushes travel on this one channel. */
export const EVENT_CHANNEL = 'greenlight:event' as const;
export type EventChannel = typeof EVENT_CHANNEL;
export type { DesktopEvent };

export function channelOf<M extends IpcMethod>(method: M): IpcContract[M]['channel'] {
  return `greenlight:${method}`;
}
