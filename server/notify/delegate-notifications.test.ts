import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delegation, GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { SmtpReceiver } from '../test-support/smtp-receiver.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: [email]
  - name: prod-pairs
    match: { action: migrate }
    approvers: [sre]
    minApprovals: 2
    remind: 10m
    notify: [email]
`;
const SMTP_PASSWORD = 'smtp-password-for-delegate-mail-7q2p';
const DAY = 86_400_000;

describe('delegates get the email their delegator would get, during the window only', () => {
  const smtp = new SmtpReceiver({ user: 'greenlight', pass: SMTP_PASSWORD });
  const clock = new ManualClock(new Date());
  let hub: TestHub;
  let alice: TestUser, bob: TestUser, carol: TestUser, dan: TestUser;

  beforeAll(async () => {
    await smtp.start();
    hub = new TestHub('sqlite', {
      policy: POLICY,
      clock,
      publicUrl: 'http://greenlight.test.example',
      notifiers: { email: smtp.emailNotifier('GREENLIGHT_TEST_DELEGATE_SMTP_PASSWORD') },
    });
    await hub.start();
    // An approver of nothing, so she can be someone's delegate (a requester alone decides nothing, so can't be).
    alice = await hub.createUser('alice', ['requester', 'approver'], [], { email: 'alice@example.com' });
    bob = await hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
    carol = await hub.createUser('carol', ['approver'], [], { email: 'carol@example.com' });
    dan = await hub.createUser('dan', ['approver'], ['sre'], { email: 'dan@example.com' });
  });
  afterAll(async () => {
    await hub.dispose();
    await smtp.stop();
    delete process.env.GREENLIGHT_TEST_DELEGATE_SMTP_PASSWORD;
  });

  const submit = async () => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest());
    expect(status).toBe(201);
    await hub.hub.dispatcher.idle();
    return body;
  };
  const mailsAbout = (address: string, requestId: string) => smtp.to(address).filter((received) => received.mail.headers.get('x-greenlight-request') === requestId);
  const delegate = async (from: TestUser, to: string) => {
    const { status, body } = await hub.api<Delegation>('POST', '/api/v1/delegations', from.token, { to, endsAt: new Date(clock.now().getTime() + 7 * DAY).toISOString(), reason: 'holiday' });
    expect(status).toBe(201);
    return body;
  };

  it('mails the delegate of an approver while the delegation lasts, and one message each to a delegate who is an approver too', async () => {
    const toCarol = await delegate(bob, 'carol');
    const toDan = await delegate(bob, 'dan');
    const during = await submit();
    expect(mailsAbout('bob@example.com', during.id)).toHaveLength(1);
    expect(mailsAbout('carol@example.com', during.id)).toHaveLength(1);
    expect(mailsAbout('dan@example.com', during.id)).toHaveLength(1);

    expect((await hub.api('DELETE', `/api/v1/delegations/${toCarol.id}`, bob.token)).status).toBe(200);
    expect((await hub.api('DELETE', `/api/v1/delegations/${toDan.id}`, bob.token)).status).toBe(200);
    const after = await submit();
    expect(mailsAbout('bob@example.com', after.id)).toHaveLength(1);
    expect(mailsAbout('carol@example.com', after.id)).toHaveLength(0);
    expect(mailsAbout('alice@example.com', after.id)).toHaveLength(0);
  });

  it('a delegate who voted for their delegator is not reminded, by email or in the app', async () => {
    await delegate(bob, 'carol');
    const { body: request } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ action: 'migrate' }));
    expect((await hub.api('POST', `/api/v1/requests/${request.id}/decisions`, carol.token, { decision: 'approve', onBehalfOf: 'bob' })).status).toBe(200);
    const carolsApp = await hub.connect(carol);
    const reminded: string[] = [];
    carolsApp.on('request:reminded', (payload) => reminded.push(payload.request.id));
    const dansApp = await hub.connect(dan);
    const danReminded = new Promise<string>((resolve) => dansApp.on('request:reminded', (payload) => resolve(payload.request.id)));
    clock.advance(11 * 60_000);
    await hub.hub.scheduler.runNow();
    await hub.hub.dispatcher.idle();
    expect(await danReminded).toBe(request.id);
    // Anything the hub sent carol before answering her sync has reached her by its answer.
    await carolsApp.sync();
    expect(reminded).toEqual([]);
    const remindersTo = (address: string) => mailsAbout(address, request.id).filter((received) => received.mail.subject?.includes('still waits'));
    expect(remindersTo('dan@example.com')).toHaveLength(1);
    expect(remindersTo('carol@example.com')).toEqual([]);
  });

  it('never mails the requester as a delegate of an approver', async () => {
    const toAlice = await delegate(dan, 'alice');
    const own = await submit();
    expect(mailsAbout('dan@example.com', own.id)).toHaveLength(1);
    expect(mailsAbout('alice@example.com', own.id)).toHaveLength(0);
    expect((await hub.api('DELETE', `/api/v1/delegations/${toAlice.id}`, dan.token)).status).toBe(200);
  });
});
