import type { GreenlightRequest } from '../protocol/index.js';
import { createUser, hubUrl, unique } from './support/hub-api.js';
import { expect, myRequest, openTab, test } from './support/fixtures.js';

test('a submission whose answer was lost, sent again from the form, is one request, not two', async ({ actors }) => {
  const requester = await createUser('alice', ['requester']);
  await createUser('bob', ['approver'], ['platform']);
  const resource = unique('lost-answer');
  // The hub makes the request, then the connection drops before its answer reaches the page.
  let submitAck: string | null = null;
  let dropped = false;
  const alice = await actors.open(requester, {
    beforeGoto: (page) =>
      page.routeWebSocket(/\/socket\.io\//, (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((message) => {
          const asked = typeof message === 'string' ? /^42(\d+)\["request:submit"/.exec(message) : null;
          if (asked && !dropped) submitAck = asked[1] ?? null;
          server.send(message);
        });
        server.onMessage((message) => {
          if (!dropped && submitAck !== null && typeof message === 'string' && message.startsWith(`43${submitAck}`)) {
            dropped = true;
            ws.close();
            server.close();
            return;
          }
          ws.send(message);
        });
      }),
  });

  await openTab(alice.page, 'New request');
  const form = alice.page.getByRole('form', { name: 'Ask for access' });
  await form.getByLabel('Action', { exact: true }).selectOption('config');
  await form.getByLabel('Environment', { exact: true }).fill('production');
  await form.getByLabel('Resource', { exact: true }).fill(resource);
  await form.getByLabel('Reason', { exact: true }).fill('Turn on new invoices for the EU launch');
  await form.getByRole('button', { name: 'Submit request' }).click();
  await expect(form.getByRole('alert')).toContainText('may or may not have been made. Submit again once connected: it will not be made twice.');
  expect(dropped).toBe(true);

  await form.getByRole('button', { name: 'Submit request' }).click();
  await expect(alice.page.getByRole('heading', { name: 'Request submitted' })).toBeVisible();
  await expect(myRequest(alice.page, resource).getByTestId('status')).toHaveText('pending');
  const mine = (await (await fetch(`${hubUrl()}/api/v1/requests?mine=true&limit=500`, { headers: { authorization: `Bearer ${requester.token}` } })).json()) as { requests: GreenlightRequest[] };
  expect(mine.requests.filter((request) => request.resource === resource)).toHaveLength(1);
});
