// The signed-in web view against a real control plane: sign-up, an organisation and a
// project, and an API key a script uses.

import { expect, test, type Page } from '@playwright/test'
import { startControlPlane, type ControlPlane } from './control-plane.ts'
import { register, screenshot, watchErrors } from './helpers.ts'

let cp: ControlPlane

test.beforeAll(async () => {
  cp = await startControlPlane({ openRegistration: true })
})

test.afterAll(async () => {
  await cp.stop()
})

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
  await register(page, cp.url, 'ada@example.com')

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
