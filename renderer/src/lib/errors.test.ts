import { describe, expect, it } from 'vitest';
import { actionMessage, loadMessage, signInMessage } from './errors.js';

const HUB = 'https://hub.example';
const NETWORK = /Check the address and your network/;

describe('signInMessage keeps the explanation that says more than its code', () => {
  it('a missing or locked OS keychain says so, not that the hub is unreachable', () => {
    const missing = 'No OS keychain is available (on Linux: a Secret Service such as gnome-keyring or KWallet running in this session). Greenlight keeps your token only in the keychain, so it cannot sign in until one is available. (the keytar module could not be loaded)';
    const shown = signInMessage({ code: 'UNAVAILABLE', message: missing }, HUB);
    expect(shown.title).not.toMatch(/Cannot reach/);
    expect(shown.hint).toBe(missing);
    const locked = signInMessage({ code: 'UNAVAILABLE', message: 'The OS keychain is locked. Unlock it (on Linux: your login keyring) and sign in again.' }, HUB);
    expect(`${locked.title} ${locked.hint}`).toMatch(/keychain is locked/);
    expect(locked.hint).not.toMatch(NETWORK);
  });

  it('an http:// address of another machine says to use https, not that the address is invalid', () => {
    const message = 'Not connecting to http://hub.example: use https:// for a hub on another machine: over http:// your token would cross the network unencrypted (http is for a hub on this machine: localhost, 127.0.0.1, [::1]).';
    const shown = signInMessage({ code: 'INVALID_INPUT', message }, 'http://hub.example');
    expect(shown.title).not.toMatch(/not valid/);
    expect(shown.hint).toBe(message);
    const fromIpc = signInMessage({ code: 'INVALID_INPUT', message: 'signIn: hubUrl: use https:// for a hub on another machine: over http:// your token would cross the network unencrypted' }, 'http://hub.example');
    expect(fromIpc.hint).toMatch(/use https:\/\//);
  });

  it('a token the app refuses to send is about the token, not the address', () => {
    const shown = signInMessage({ code: 'INVALID_INPUT', message: 'signIn: token: paste your API token' }, HUB);
    expect(shown.title).not.toMatch(/address/);
    expect(shown.hint).toMatch(/paste your API token/);
  });

  it('an address that does not parse still gets the example of a full one', () => {
    const shown = signInMessage({ code: 'INVALID_INPUT', message: 'signIn: hubUrl: must be an http:// or https:// URL' }, 'hub');
    expect(shown).toEqual({ title: 'That hub address is not valid.', hint: 'Use the full address, for example https://greenlight.example.com.' });
  });

  it('the hub’s reason for refusing a token is shown: expired, throttled, ended', () => {
    const expired = 'This token ("laptop") expired at 2030-01-01T00:00:00.000Z. Create a new one (greenlight token create) or sign in again.';
    expect(signInMessage({ code: 'UNAUTHENTICATED', message: expired }, HUB)).toEqual({ title: 'The hub refused this token.', hint: expired });
    const throttled = 'This token is not valid (unknown, revoked, or its user was disabled). Ask an admin for a new one. Too many failed sign-ins from this address: at most 10 a minute. Check the token, then retry in 42 s.';
    expect(signInMessage({ code: 'UNAUTHENTICATED', message: throttled }, HUB).hint).toMatch(/retry in 42 s/);
  });

  it('a token the hub does not know gets the advice on pasting it whole', () => {
    const unknown = 'This token is not valid (unknown, revoked, or its user was disabled). Ask an admin for a new one.';
    expect(signInMessage({ code: 'UNAUTHENTICATED', message: unknown }, HUB).hint).toMatch(/starts with glt_/);
  });

  it('the app reopening a saved session says it is still signed in and keeps trying', () => {
    const resume = 'Cannot reach the hub at https://hub.example: xhr poll error. You are still signed in: the app keeps trying and opens as soon as the hub answers.';
    const shown = signInMessage({ code: 'UNAVAILABLE', message: resume, noAnswer: true }, HUB);
    expect(shown.title).toBe('Cannot reach the hub at https://hub.example.');
    expect(shown.hint).toBe('You are still signed in: the app keeps trying and opens as soon as the hub answers.');
  });

  it('a hub that answered but is itself unavailable says why, not to check the network', () => {
    const shown = signInMessage({ code: 'UNAVAILABLE', message: 'the database is unreachable' }, HUB);
    expect(shown.hint).toBe('the database is unreachable');
    expect(shown.title).not.toMatch(/Cannot reach the hub/);
  });

  it('network advice only when nothing answered', () => {
    for (const message of ['Cannot reach the hub at https://hub.example: xhr poll error', 'Cannot reach the hub at https://hub.example: getaddrinfo ENOTFOUND hub.example', 'Cannot connect to https://hub.example', 'No answer from the hub at https://hub.example within 10000 ms']) {
      expect(signInMessage({ code: 'UNAVAILABLE', message, noAnswer: true }, HUB), message).toEqual({ title: 'Cannot reach the hub at https://hub.example.', hint: expect.stringMatching(NETWORK) });
    }
  });

  it('decides "nothing answered" from the client’s mark, not its wording: a reworded sentence still says the hub cannot be reached', () => {
    for (const code of ['UNAVAILABLE', 'TIMEOUT'] as const) {
      const shown = signInMessage({ code, message: 'The connection to hub.example was refused (ECONNREFUSED).', noAnswer: true }, HUB);
      expect(shown).toEqual({ title: 'Cannot reach the hub at https://hub.example.', hint: expect.stringMatching(NETWORK) });
    }
  });

  it('a hub that answered UNAVAILABLE is not presented as unreachable, even where its sentence reads like the client’s', () => {
    for (const message of [
      'The hub cannot reach its database right now, so nothing was stored. Retry in a few seconds.',
      'No answer from the hub’s database within 5000 ms; nothing was stored.',
      'Cannot connect to postgres://db.internal:5432: too many clients already.',
    ]) {
      const shown = signInMessage({ code: 'UNAVAILABLE', message }, HUB);
      expect(shown, message).toEqual({ title: 'Sign-in failed.', hint: message });
    }
  });
});

describe('actionMessage', () => {
  it('says "not sent, the hub is unreachable" only when no connection was made; a hub that answered unavailable is given its own words', () => {
    const refused = { code: 'UNAVAILABLE', message: 'Cannot reach the hub at https://hub.example: connect ECONNREFUSED', noAnswer: true, neverSent: true } as const;
    expect(actionMessage(refused)).toBe('Not sent: the hub is unreachable right now. Try again once it reconnects.');
    const away = 'The hub cannot reach its database right now, so nothing was stored. Retry in a few seconds.';
    expect(actionMessage({ code: 'UNAVAILABLE', message: away })).toBe(away);
  });

  it('does not say "not sent" when the request may have gone out before nothing answered (a reset, or a browser that cannot tell)', () => {
    for (const message of ['Cannot reach the hub at https://hub.example: other side closed', 'Cannot reach the hub at https://hub.example: Failed to fetch']) {
      const shown = actionMessage({ code: 'UNAVAILABLE', message, noAnswer: true });
      expect(shown, message).toBe('The hub did not answer, so this may or may not have been done. Check once reconnected.');
      expect(shown, message).not.toMatch(/not sent/i);
    }
  });

  it('keeps the hub’s reason someone may not decide: whose delegate they are not, who was disabled', () => {
    const message = 'You are not bob’s delegate now; a delegation covers only its window and its rules.';
    expect(actionMessage({ code: 'NOT_ELIGIBLE', message })).toBe(message);
    expect(actionMessage({ code: 'NOT_ELIGIBLE', message: '' })).toBe('You are not an approver for this request.');
  });
});

describe('loadMessage', () => {
  it('says a read could not reach the hub, never that something may have been done', () => {
    for (const error of [
      { code: 'UNAVAILABLE' as const, message: 'Cannot reach the hub at https://hub.example: other side closed', noAnswer: true as const },
      { code: 'UNAVAILABLE' as const, message: 'Cannot reach the hub at https://hub.example: connect ECONNREFUSED', noAnswer: true as const, neverSent: true as const },
      { code: 'TIMEOUT' as const, message: 'The hub did not answer users:list within 10000 ms' },
    ]) {
      const shown = loadMessage(error);
      expect(shown).toBe('the hub did not answer. Try again once the connection is back.');
      expect(shown).not.toMatch(/been done|not sent/i);
    }
  });

  it('keeps what the hub said when it answered', () => {
    const away = 'The hub cannot reach its database right now, so nothing was stored. Retry in a few seconds.';
    expect(loadMessage({ code: 'UNAVAILABLE', message: away })).toBe(away);
    expect(loadMessage({ code: 'FORBIDDEN', message: 'Only an admin can list users.' })).toBe('Only an admin can list users.');
  });
});
