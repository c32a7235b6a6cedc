// Sandboxed preloads run as CommonJS (this folder's package.json says so) and may require only `electron`: everything else here is a type.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { DesktopApi, DesktopEvent } from '../../protocol/desktop-api.js';
import type { EventChannel, IpcContract, IpcMethod } from '../ipc-contract.js';

const EVENT_CHANNEL: EventChannel = 'greenlight:event';

function invoke<M extends IpcMethod>(channel: IpcContract[M]['channel'], arg?: IpcContract[M]['arg']): Promise<IpcContract[M]['result']> {
  return ipcRenderer.invoke(channel, arg) as Promise<IpcContract[M]['result']>;
}

const api = {
  getSession: () => invoke<'getSession'>('greenlight:getSession'),
  signIn: (input) => invoke<'signIn'>('greenlight:signIn', input),
  signInWithBrowser: (input) => invoke<'signInWithBrowser'>('greenlight:signInWithBrowser', input),
  cancelSignInWithBrowser: () => invoke<'cancelSignInWithBrowser'>('greenlight:cancelSignInWithBrowser'),
  signOut: () => invoke<'signOut'>('greenlight:signOut'),
  dismissSignOutNote: () => invoke<'dismissSignOutNote'>('greenlight:dismissSignOutNote'),
  sync: () => invoke<'sync'>('greenlight:sync'),
  submit: (input) => invoke<'submit'>('greenlight:submit', input),
  decide: (input) => invoke<'decide'>('greenlight:decide', input),
  cancel: (input) => invoke<'cancel'>('greenlight:cancel', input),
  review: (input) => invoke<'review'>('greenlight:review', input),
  claim: (input) => invoke<'claim'>('greenlight:claim', input),
  release: (input) => invoke<'release'>('greenlight:release', input),
  get: (input) => invoke<'get'>('greenlight:get', input),
  revokeGrant: (input) => invoke<'revokeGrant'>('greenlight:revokeGrant', input),
  extendGrant: (input) => invoke<'extendGrant'>('greenlight:extendGrant', input),
  audit: (input) => invoke<'audit'>('greenlight:audit', input),
  exportAudit: (input) => invoke<'exportAudit'>('greenlight:exportAudit', input),
  decisionReport: (input) => invoke<'decisionReport'>('greenlight:decisionReport', input),
  explainPolicy: (input) => invoke<'explainPolicy'>('greenlight:explainPolicy', input),
  openExternal: (input) => invoke<'openExternal'>('greenlight:openExternal', input),
  listUsers: () => invoke<'listUsers'>('greenlight:listUsers'),
  listDelegations: () => invoke<'listDelegations'>('greenlight:listDelegations'),
  createDelegation: (input) => invoke<'createDelegation'>('greenlight:createDelegation', input),
  endDelegation: (input) => invoke<'endDelegation'>('greenlight:endDelegation', input),
  createUser: (input) => invoke<'createUser'>('greenlight:createUser', input),
  updateUser: (input) => invoke<'updateUser'>('greenlight:updateUser', input),
  disableUser: (input) => invoke<'disableUser'>('greenlight:disableUser', input),
  enableUser: (input) => invoke<'enableUser'>('greenlight:enableUser', input),
  setupStatus: () => invoke<'setupStatus'>('greenlight:setupStatus'),
  listTokens: () => invoke<'listTokens'>('greenlight:listTokens'),
  createToken: (input) => invoke<'createToken'>('greenlight:createToken', input),
  revokeToken: (input) => invoke<'revokeToken'>('greenlight:revokeToken', input),
  myChannels: () => invoke<'myChannels'>('greenlight:myChannels'),
  getSettings: () => invoke<'getSettings'>('greenlight:getSettings'),
  updateSettings: (input) => invoke<'updateSettings'>('greenlight:updateSettings', input),
  onEvent: (listener) => {
    // The Electron event object stays on this side of the bridge: it carries `sender`.
    const forward = (_event: IpcRendererEvent, payload: DesktopEvent) => listener(payload);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
} satisfies DesktopApi;

contextBridge.exposeInMainWorld('greenlight', api);
