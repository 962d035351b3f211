// /setup#token=…: the first run's link (logged by a service with no account) creates the
// instance's administrator. The token stays in the fragment, which no server or proxy logs.

import { Alert, Code, Text } from '@mantine/core'
import { useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useNavigate } from 'react-router'
import { api, ok } from '../api.ts'
import { AuthLayout } from '../components/auth-layout.tsx'
import { CredentialsForm } from '../components/credentials-form.tsx'
import { keys } from '../queries.ts'

function tokenFromFragment(): string | undefined {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token')
  return token === null || token === '' ? undefined : token
}

export function SetupPage() {
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  // Read once: the link may be opened only once, and a re-render must not lose it.
  const [token] = useState(tokenFromFragment)
  return (
    <AuthLayout
      title="Set up DBSnap"
      subtitle="Create the administrator of this instance. The setup link works once, for an hour."
    >
      {token === undefined ? (
        <Alert color="yellow" title="No setup token">
          <Text size="sm">
            Open the setup link from the service&apos;s log (<Code>setupUrl</Code>, ending in{' '}
            <Code>/setup#token=…</Code>), or create the administrator from a shell with{' '}
            <Code>dbsnap-control-plane admin create --email …</Code>.
          </Text>
        </Alert>
      ) : (
        <CredentialsForm
          submitLabel="Create administrator"
          newPassword
          onSubmit={async (credentials) => {
            const { user, session } = await ok(
              api.auth.setup.$post({ json: { ...credentials, token } }),
            )
            queryClient.setQueryData(keys.me, { user, session })
            await navigate('/', { replace: true })
          }}
        />
      )}
    </AuthLayout>
  )
}
