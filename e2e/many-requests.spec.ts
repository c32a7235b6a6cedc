import { createUser, submitRequest, unique } from './support/hub-api.js';
import { expect, inboxRow, test } from './support/fixtures.js';

test('two thousand waiting requests: the list stays virtual and j/k still walk it', async ({ actors }) => {
  test.setTimeout(180_000);
  const requester = await createUser('pipeline', ['requester']);
  const approver = await createUser('vera', ['approver'], ['bulk']);
  const vera = await actors.open(approver);
  const prefix = unique('svc');
  const total = 2_000;
  for (let start = 0; start < total; start += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, total - start) }, (_, offset) =>
        submitRequest(requester, {
          action: 'bulk-check',
          resource: `${prefix}-${String(start + offset).padStart(4, '0')}`,
          environment: 'production',
          reason: 'nightly check',
          risk: start + offset === 1_234 ? 'critical' : 'low',
        }),
      ),
    );
  }

  await expect(vera.page.getByTestId('inbox-count')).toHaveText(String(total), { timeout: 60_000 });
  await expect(vera.page).toHaveTitle(`(${total}) Greenlight`);
  // Only the rows on screen (plus a few) are in the DOM.
  expect(await vera.page.getByRole('option').count()).toBeLessThan(40);
  // Most urgent first: the single critical request leads the list.
  await vera.page.keyboard.press('j');
  await expect(inboxRow(vera.page, `${prefix}-1234`)).toHaveAttribute('aria-selected', 'true');
  await vera.page.keyboard.press('j');
  await vera.page.keyboard.press('k');
  await expect(inboxRow(vera.page, `${prefix}-1234`)).toHaveAttribute('aria-selected', 'true');
  // Walking far down scrolls the virtual list along.
  for (let i = 0; i < 60; i++) await vera.page.keyboard.press('j');
  await expect(vera.page.getByRole('option', { selected: true })).toBeInViewport();
  expect(await vera.page.getByRole('option').count()).toBeLessThan(40);
  // Arrow keys inside the list move the selection and keep focus on it.
  const selected = vera.page.getByRole('option', { selected: true });
  const before = await selected.getAttribute('data-request-id');
  await selected.focus();
  await vera.page.keyboard.press('ArrowDown');
  await expect(selected).not.toHaveAttribute('data-request-id', before ?? '');
  await expect(selected).toBeFocused();
});
