import { expect, test } from '@playwright/test';
import { hubUrl } from './support/hub-api.js';

test('the API docs page renders from the hub alone, under its CSP', async ({ page }) => {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  const outside: string[] = [];
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === new URL(hubUrl()).origin) return route.continue();
    outside.push(url.href);
    return route.abort();
  });

  await page.goto(`${hubUrl()}/docs/`);
  await expect(page.getByRole('heading', { name: /Greenlight hub API/ })).toBeVisible();
  await expect(page.getByText('/api/v1/requests/{id}/decisions')).toBeVisible();
  await page.getByText('/api/v1/requests/{id}/decisions').click();
  await expect(page.getByText('Approve or deny').first()).toBeVisible();

  expect(outside, 'nothing loaded from outside the hub').toEqual([]);
  expect(problems, 'no CSP violations or errors').toEqual([]);
});
