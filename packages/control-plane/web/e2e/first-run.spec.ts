// A fresh instance: the setup link creates the administrator; sign-up stays closed.

import { expect, test } from '@playwright/test'
import { startControlPlane, type ControlPlane } from './control-plane.ts'
import { fillCredentials, screenshot, watchErrors } from './helpers.ts'

let cp: ControlPlane

test.beforeAll(async () => {
  cp = await startControlPlane()
})

test.afterAll(async () => {
  await cp.stop()
})

test('sign-up on a closed instance says so', async ({ page }) => {
  const errors = watchErrors(page)
  await page.goto(`${cp.url}/register`)
  await fillCredentials(page, 'stranger@example.com', 'a long enough password')
  await page.getByRole('button', { name: 'Create account' }).click()
  await expect(page.getByRole('alert')).toContainText('Sign-up is closed on this instance')
  await screenshot(page, 'register-closed')
  errors.expectClean()
})

test('without a token, the setup page explains where the link is', async ({ page }) => {
  await page.goto(`${cp.url}/setup`)
  await expect(page.getByText('No setup token')).toBeVisible()
})

test('the setup link creates the administrator, signed in', async ({ page }) => {
  const errors = watchErrors(page)
  const setupUrl = await cp.setupUrl()
  expect(setupUrl).toMatch(/\/setup#token=/)
  await page.goto(setupUrl)
  await expect(page.getByRole('heading', { name: 'Set up DBSnap' })).toBeVisible()
  await fillCredentials(page, 'admin@example.com', 'correct horse battery staple')
  await screenshot(page, 'setup')
  await page.getByRole('button', { name: 'Create administrator' }).click()
  await expect(page.getByRole('heading', { name: 'Welcome to DBSnap' })).toBeVisible()
  await expect(
    page.getByRole('button', { name: 'Account menu of admin@example.com' }),
  ).toBeVisible()
  await screenshot(page, 'welcome')
  errors.expectClean()
})
