// Sessions in the web view against a real control plane: sign-in, the silent refresh of an
// expired access token, and a session revoked from another browser.

import { expect, test } from '@playwright/test'
import { startControlPlane, type ControlPlane } from './control-plane.ts'
import { fillCredentials, PASSWORD, register, screenshot, signIn, watchErrors } from './helpers.ts'

let cp: ControlPlane

test.beforeAll(async () => {
  cp = await startControlPlane({ openRegistration: true })
})

test.afterAll(async () => {
  await cp.stop()
})

test('a wrong password gets a message; the right one signs in', async ({ page }) => {
  const errors = watchErrors(page)
  await register(page, cp.url, 'grace@example.com')
  await page.getByRole('button', { name: 'Account menu of grace@example.com' }).click()
  await page.getByRole('menuitem', { name: 'Sign out' }).click()
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible()

  await fillCredentials(page, 'grace@example.com', 'not the password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('alert')).toContainText('Invalid email or password.')
  await screenshot(page, 'login-failed')

  await signIn(page, cp.url, 'grace@example.com', PASSWORD)
  errors.expectClean()
})

test('an expired access token is renewed with the refresh cookie, unseen', async ({ page }) => {
  const errors = watchErrors(page)
  await register(page, cp.url, 'kai@example.com')
  // As when the 15-minute access token expires: only the refresh cookie is left.
  await page.context().clearCookies({ name: '__Host-dbsnap-access' })
  await page.getByRole('link', { name: 'Sessions' }).click()
  await expect(page.getByTestId('session-row')).toHaveCount(1)
  await expect(page).toHaveURL(/\/sessions$/)
  const cookies = await page.context().cookies()
  expect(cookies.map((cookie) => cookie.name)).toContain('__Host-dbsnap-access')
  errors.expectClean()
})

test('revoking a session signs the other browser out on its next action', async ({ browser }) => {
  const laptop = await browser.newContext()
  const phone = await browser.newContext()
  try {
    const mine = await laptop.newPage()
    await register(mine, cp.url, 'lin@example.com')
    const other = await phone.newPage()
    await signIn(other, cp.url, 'lin@example.com', PASSWORD)

    await mine.getByRole('link', { name: 'Sessions' }).click()
    const rows = mine.getByTestId('session-row')
    await expect(rows).toHaveCount(2)
    await expect(rows.filter({ hasText: 'This session' })).toHaveCount(1)
    await screenshot(mine, 'sessions')

    await rows
      .filter({ hasNotText: 'This session' })
      .getByRole('button', { name: 'Revoke' })
      .click()
    await expect(rows).toHaveCount(1)

    // The other browser's next request is refused, its refresh too: back to the login page.
    await other.getByRole('link', { name: 'Sessions' }).click()
    await expect(other.getByRole('heading', { name: 'Sign in' })).toBeVisible()
    await expect(other.getByText('Your session has ended')).toBeVisible()
    await screenshot(other, 'signed-out')

    // The first browser still works.
    await mine.reload()
    await expect(mine.getByTestId('session-row')).toHaveCount(1)
  } finally {
    await laptop.close()
    await phone.close()
  }
})
