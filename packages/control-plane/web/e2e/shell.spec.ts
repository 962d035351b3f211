// The signed-in web view against a real control plane: sign-up, organisations and projects,
// API keys used from a script, sessions revoked from another browser.

import { expect, test, type Page } from '@playwright/test'
import { startControlPlane, type ControlPlane } from './control-plane.ts'
import { fillCredentials, screenshot, signIn, watchErrors } from './helpers.ts'

const PASSWORD = 'correct horse battery staple'
let cp: ControlPlane

test.beforeAll(async () => {
  cp = await startControlPlane({ openRegistration: true })
})

test.afterAll(async () => {
  await cp.stop()
})

async function register(page: Page, email: string) {
  await page.goto(`${cp.url}/register`)
  await fillCredentials(page, email, PASSWORD)
  await page.getByRole('button', { name: 'Create account' }).click()
  await expect(page.getByRole('heading', { name: 'Welcome to DBSnap' })).toBeVisible()
}

async function createNamed(page: Page, dialog: string, name: string) {
  const modal = page.getByRole('dialog', { name: dialog })
  await modal.getByRole('textbox', { name: 'Name' }).fill(name)
  await modal.getByRole('button', { name: 'Create' }).click()
  await expect(modal).toBeHidden()
}

test('register, create an organisation, a project and an API key a script can use', async ({
  page,
}) => {
  const errors = watchErrors(page)
  await page.goto(`${cp.url}/register`)
  await screenshot(page, 'register')
  await register(page, 'ada@example.com')

  await page.getByRole('button', { name: 'Create an organisation' }).click()
  await createNamed(page, 'New organisation', 'Acme Data')
  await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible()
  const orgId = /\/orgs\/([^/]+)\/projects/.exec(page.url())?.[1] ?? ''
  expect(orgId).not.toBe('')

  await page.getByRole('button', { name: 'New project' }).click()
  await createNamed(page, 'New project in Acme Data', 'Shop database')
  await expect(page.getByRole('heading', { name: 'Shop database' })).toBeVisible()
  await expect(page.getByText('No connection yet')).toBeVisible()
  await screenshot(page, 'project')

  await page.getByRole('link', { name: 'Projects' }).click()
  await expect(page.getByRole('link', { name: 'Shop database' })).toBeVisible()
  await screenshot(page, 'projects')

  await page.getByRole('link', { name: 'API keys' }).click()
  await page.getByRole('button', { name: 'New API key' }).click()
  const dialog = page.getByRole('dialog', { name: 'New API key' })
  await dialog.getByRole('textbox', { name: 'Name' }).fill('nightly CI')
  await screenshot(page, 'api-key-create')
  await dialog.getByRole('button', { name: 'Create key' }).click()
  const secret = (await page.getByTestId('api-key-secret').textContent()) ?? ''
  expect(secret).toMatch(/^dbs_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
  await screenshot(page, 'api-key-secret')
  await page.getByRole('button', { name: 'Done' }).click()
  await expect(page.getByTestId('api-key-row')).toHaveCount(1)
  await expect(page.getByTestId('api-key-row')).toContainText(secret.slice(0, 16))

  // What a script does with the key: no cookie, no Origin, a bearer token.
  const res = await fetch(`${cp.url}/api/v1/orgs/${orgId}/projects`, {
    headers: { authorization: `Bearer ${secret}` },
  })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { projects: { name: string }[] }
  expect(body.projects.map((p) => p.name)).toEqual(['Shop database'])

  // The key's use shows in the list: last used is no longer "never" (only the expiry column is).
  await page.reload()
  await expect(page.getByTestId('api-key-row').getByText('never')).toHaveCount(0)
  await screenshot(page, 'api-keys')
  errors.expectClean()
})

test('a wrong password gets a message; the right one signs in', async ({ page }) => {
  const errors = watchErrors(page)
  await register(page, 'grace@example.com')
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
  await register(page, 'kai@example.com')
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
    await register(mine, 'lin@example.com')
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
