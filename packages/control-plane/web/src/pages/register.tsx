// /register: sign-up, when the instance allows it (DBSNAP_CP_OPEN_REGISTRATION); otherwise the
// API answers REGISTRATION_CLOSED and the form says so.

import { Anchor, Text } from '@mantine/core'
import { useQueryClient } from '@tanstack/react-query'
import { Link, useNavigate } from 'react-router'
import { api, ok } from '../api.ts'
import { AuthLayout } from '../components/auth-layout.tsx'
import { CredentialsForm } from '../components/credentials-form.tsx'
import { keys } from '../queries.ts'

export function RegisterPage() {
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  return (
    <AuthLayout title="Create an account">
      <CredentialsForm
        submitLabel="Create account"
        newPassword
        onSubmit={async (credentials) => {
          const { user, session } = await ok(api.auth.register.$post({ json: credentials }))
          queryClient.setQueryData(keys.me, { user, session })
          await navigate('/', { replace: true })
        }}
      />
      <Text size="sm" ta="center" mt="md">
        Already have an account?{' '}
        <Anchor component={Link} to="/login">
          Sign in
        </Anchor>
      </Text>
    </AuthLayout>
  )
}
