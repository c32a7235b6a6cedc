import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delegation, GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { buildView, viewReader, withoutSecrets } from '../domain/request-view.js';
import { requestStore } from '../store/requests.js';
import { deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { SmtpReceiver } from '../test-support/smtp-receiver.js';
import { enqueueEmails } from './email-outbox.js';

const POLICY = `
rules:
  - name: few
    match: { action: migrate }
    approvers: [few]
    notify: [email]
  - name: many
    match: { action: reindex }
    approvers: [many]
    notify: [email]
`;
const FEW = 2;
const MANY = 6;
const DAY = 86_400_000;

/** Left the transaction it is thrown from rolled back: the counted messages are never written twice. */
class RolledBack extends Error {}

/**
 * Asking for a decision writes its emails inside the change's own transaction: whom they go to (the
 * approvers, each one's delegate and whom that delegate decides for) is read in a fixed number of
 * statements, however many approvers and delegates the rule reaches.
 */
describe('the emails asking approvers and their delegates to decide', () => {
  // Not running: each message fails at once and waits for a retry the test never reaches.
  const smtp = new SmtpReceiver();
  const clock = new ManualClock(new Date());
  let hub: TestHub;
  let dev: TestUser;

  beforeAll(async () => {
    await smtp.start();
    await smtp.stop();
    hub = new TestHub('sqlite', { policy: POLICY, clock, notifiers: { email: { smtp: { host: '127.0.0.1', port: smtp.port }, from: 'Greenlight <greenlight@example.com>' } } });
    await hub.start();
    dev = await hub.createUser('dev', ['requester'], [], { email: 'dev@example.com' });
    for (const [group, count] of [['few', FEW], ['many', MANY]] as const) {
      for (let n = 0; n < count; n++) {
        const approver = await hub.createUser(`${group}-${n}`, ['approver'], [group], { email: `${group}-${n}@example.com` });
        await hub.createUser(`${group}-${n}-stand-in`, ['approver'], [], { email: `${group}-${n}-stand-in@example.com` });
        const made = await hub.api<Delegation>('POST', '/api/v1/delegations', approver.token, { to: `${group}-${n}-stand-in`, endsAt: new Date(clock.now().getTime() + 7 * DAY).toISOString(), reason: 'holiday' });
        expect(made.status, JSON.stringify(made.body)).toBe(201);
      }
    }
  });
  afterAll(async () => {
    await hub.dispose();
  });

  const submit = async (action: string): Promise<string> => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dev.token, deployRequest({ action, risk: 'medium' }));
    expect(status, JSON.stringify(body)).toBe(201);
    return body.id;
  };

  /** Writes the request's emails again in a transaction rolled back at the end, counting the statements run in it. */
  const statementsToEmail = async (requestId: string): Promise<number> => {
    const { ctx } = hub.hub;
    const row = await requestStore.byId(ctx.store.db, requestId);
    if (!row) throw new Error(`no request ${requestId}`);
    const data = withoutSecrets(await buildView(viewReader(ctx), row, null));
    let statements = 0;
    const counter: KyselyPlugin = {
      transformQuery: ({ node }) => node,
      transformResult: async ({ result }) => {
        statements++;
        return result;
      },
    };
    const written = ctx.store.db
      .withPlugin(counter)
      .transaction()
      .execute(async (trx) => {
        await enqueueEmails(ctx, trx, { type: 'request.created', row, rule: row.rule, step: null, data, alert: null });
        throw new RolledBack();
      });
    await expect(written).rejects.toBeInstanceOf(RolledBack);
    return statements;
  };

  it(`reads whom to ask in as many statements for ${MANY} approvers with a delegate each as for ${FEW}`, async () => {
    const few = await submit('migrate');
    const many = await submit('reindex');
    const { db } = hub.hub.ctx.store;
    // Each delegate was sent links that decide for the approver they stand in for.
    for (const [requestId, group, count] of [[few, 'few', FEW], [many, 'many', MANY]] as const) {
      const delegateLinks = await db.selectFrom('email_actions').select('on_behalf_of').where('request_id', '=', requestId).where('on_behalf_of', 'is not', null).execute();
      expect(delegateLinks.map((link) => link.on_behalf_of).sort()).toEqual(Array.from({ length: count }, (_, n) => [`${group}-${n}`, `${group}-${n}`]).flat());
    }
    const forFew = await statementsToEmail(few);
    // Counted at all (the counter sees the outbox's reads), and no more for more people.
    expect(forFew).toBeGreaterThan(0);
    expect(await statementsToEmail(many)).toBe(forFew);
  });
});
