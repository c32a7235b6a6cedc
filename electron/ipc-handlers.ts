import type { DesktopSettingsService } from './desktop-settings.js';
import type { HubConnection } from './hub-connection.js';
import type { HubHttp } from '../protocol/hub-http.js';
import type { IpcHandlers } from './ipc.js';
import { openExternalUrl } from './open-external.js';
import { BrowserSignIn } from './browser-sign-in.js';
import { signInThroughBrowser } from './browser-sign-in-attempt.js';
import type { HubErrands } from './hub-errands.js';
import type { AuditExport } from './audit-export.js';

export interface IpcHandlerDeps {
  connection: Pick<HubConnection, 'session' | 'signIn' | 'signOut' | 'dismissSignOutNote' | 'hub' | 'holds' | 'ensureKeychain'>;
  hubHttp: Pick<HubHttp, 'revokeGrant' | 'audit' | 'decisionReport' | 'listUsers' | 'createUser' | 'updateUser' | 'disableUser' | 'enableUser' | 'setupStatus' | 'myChannels' | 'extendGrant' | 'explainPolicy' | 'listDelegations' | 'createDelegation' | 'endDelegation' | 'listTokens' | 'createToken' | 'revokeToken'>;
  desktopSettings: Pick<DesktopSettingsService, 'current' | 'update'>;
  /** Asks where to save and streams the export there (audit-export.ts). */
  exportAudit: AuditExport;
  openExternal: (url: string) => Promise<void>;
  /** The page made a call, so it is listening to events. */
  rendererReady: () => void;
  /** The HTTP of a sign-in through the browser; the global fetch unless given. */
  fetch?: typeof fetch;
  /** Where a sign-in through the browser that ends unkept revokes its session, with nobody waiting on it. */
  errands?: HubErrands;
}

/** What each preload call does in main; arguments arrive parsed by ipc.ts. */
/** The hub's address as the keychain keys it: every way of signing in must name a hub alike. */
const hubBase = (hubUrl: string): string => new URL(hubUrl).href.replace(/\/$/, '');

export function createIpcHandlers(deps: IpcHandlerDeps): IpcHandlers {
  const { connection } = deps;
  const browserSignIn = new BrowserSignIn();
  return {
    getSession: () => {
      deps.rendererReady();
      return connection.session;
    },
    signIn: async ({ hubUrl, token }) => {
      // Once a browser sign-in under way has ended and undone what it did, so only this one signs main in.
      await browserSignIn.cancel();
      return connection.signIn(hubBase(hubUrl), token);
    },
    signInWithBrowser: ({ hubUrl }) => {
      return browserSignIn.run((signal) => signInThroughBrowser({ connection, openExternal: deps.openExternal, fetch: deps.fetch, errands: deps.errands }, hubBase(hubUrl), signal));
    },
    cancelSignInWithBrowser: () => browserSignIn.cancel(),
    signOut: () => connection.signOut(),
    dismissSignOutNote: () => connection.dismissSignOutNote(),
    sync: async () => {
      const result = await connection.hub().sync();
      deps.rendererReady();
      return result;
    },
    submit: (input) => connection.hub().submit(input),
    decide: (input) => connection.hub().decide(input),
    cancel: ({ requestId, reason }) => connection.hub().cancel(requestId, reason),
    review: (input) => connection.hub().review(input),
    claim: ({ requestId }) => connection.hub().claim(requestId),
    release: ({ requestId }) => connection.hub().release(requestId),
    get: ({ requestId }) => connection.hub().get(requestId),
    revokeGrant: ({ jti }) => deps.hubHttp.revokeGrant(jti),
    extendGrant: ({ jti, ...input }) => deps.hubHttp.extendGrant(jti, input),
    audit: ({ query }) => deps.hubHttp.audit(query),
    exportAudit: (input) => deps.exportAudit(input),
    decisionReport: ({ query }) => deps.hubHttp.decisionReport(query),
    explainPolicy: ({ query }) => deps.hubHttp.explainPolicy(query),
    openExternal: ({ url }) => openExternalUrl(url, deps.openExternal),
    listUsers: () => deps.hubHttp.listUsers(),
    listDelegations: () => deps.hubHttp.listDelegations(),
    createDelegation: (input) => deps.hubHttp.createDelegation(input),
    endDelegation: ({ id }) => deps.hubHttp.endDelegation(id),
    createUser: (input) => deps.hubHttp.createUser(input),
    updateUser: ({ name, changes }) => deps.hubHttp.updateUser(name, changes),
    disableUser: ({ name }) => deps.hubHttp.disableUser(name),
    enableUser: ({ name }) => deps.hubHttp.enableUser(name),
    setupStatus: () => deps.hubHttp.setupStatus(),
    listTokens: () => deps.hubHttp.listTokens(),
    createToken: (input) => deps.hubHttp.createToken(input),
    revokeToken: ({ id }) => deps.hubHttp.revokeToken(id),
    myChannels: () => deps.hubHttp.myChannels(),
    getSettings: () => deps.desktopSettings.current(),
    updateSettings: (input) => deps.desktopSettings.update(input),
  };
}
