import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { GreenlightError, describeZodError } from '../protocol/errors.js';
import type { Ack } from '../protocol/events.js';
import { toAck } from './ack.js';
import { isAppUrl } from './app-origin.js';
import { channelOf, type IpcContract, type IpcMethod } from './ipc-contract.js';
import { ipcArgSchemas } from './ipc-schemas.js';

type ResultData<M extends IpcMethod> = IpcContract[M]['result'] extends Ack<infer T> ? T : never;

/** What main does for each call; arguments arrive already parsed. */
export type IpcHandlers = {
  [M in IpcMethod]: (arg: IpcContract[M]['arg']) => Promise<ResultData<M>> | ResultData<M>;
};

export interface IpcDeps {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  /** True only for the app's own window showing the app's own page. */
  isTrustedSender: (event: IpcMainInvokeEvent) => boolean;
  handlers: IpcHandlers;
}

export const IPC_METHODS = Object.keys(ipcArgSchemas) as IpcMethod[];

/** Registers one handler per channel of the contract; returns a function that removes them. */
export function registerIpc(deps: IpcDeps): () => void {
  for (const method of IPC_METHODS) registerOne(deps, method);
  return () => {
    for (const method of IPC_METHODS) deps.ipcMain.removeHandler(channelOf(method));
  };
}

function registerOne<M extends IpcMethod>(deps: IpcDeps, method: M): void {
  const schema = ipcArgSchemas[method];
  const handler = deps.handlers[method];
  deps.ipcMain.handle(channelOf(method), (event, raw: unknown) =>
    toAck(() => {
      if (!deps.isTrustedSender(event)) {
        throw new GreenlightError('FORBIDDEN', `${method}: refused a message from outside the Greenlight window`);
      }
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        throw new GreenlightError('INVALID_INPUT', `${method}: ${describeZodError(parsed.error)}`);
      }
      return handler(parsed.data);
    }),
  );
}

/** A message is trusted only from the app's own window, from its top frame, showing the app's own page. */
export function trustedSender(owns: (sender: IpcMainInvokeEvent['sender']) => boolean) {
  return (event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>): boolean => {
    const frame = event.senderFrame;
    return owns(event.sender) && frame !== null && frame.parent === null && isAppUrl(frame.url);
  };
}
