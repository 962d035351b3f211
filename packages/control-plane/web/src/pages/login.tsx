// /login: email and password; back to the page the user came from.

import { Alert, Anchor, Text } from '@mantine/core'
import { useQueryClient } from '@tanstack/react-query'
import { Link, useLocation, useNavigate } from 'react-router'
import { api, ok } from '../api.ts'
import { AuthLayout } from '../components/auth-layout.tsx'
import { CredentialsForm } from '../components/credentials-form.tsx'
import { keys } from '../queries.ts'

interface LoginState {
  from?: string
  expired?: boolean
}

export function LoginPage() {
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const state = (useLocation().state ?? {}) as LoginState
  return (
    <AuthLayout title="Sign in" subtitle="to the DBSnap control plane">
      {state.expired === true && (
        <Alert color="yellow" mb="md" title="Signed out">
          Your session has ended. Sign in again to continue.
        </Alert>
      )}
      <CredentialsForm
        submitLabel="Sign in"
        onSubmit={async (credentials) => {
          const { user, session } = await ok(api.auth.login.$post({ json: credentials }))
          queryClient.setQueryData(keys.me, { user, session })
          await navigate(state.from ?? '/', { replace: true })
        }}
      />
      <Text size="sm" ta="center" mt="md">
        No account?{' '}
        <Anchor component={Link} to="/register">
          Create one
        </Anchor>
      </Text>
    </AuthLayout>
  )
}
