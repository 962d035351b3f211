// The email and password form of login, register and setup: labelled fields, the API's field
// errors shown beside their field, any other error above the button.

import { Button, PasswordInput, Stack, TextInput } from '@mantine/core'
import { useForm } from '@mantine/form'
import { useMutation } from '@tanstack/react-query'
import { ErrorAlert, fieldErrors } from './error-alert.tsx'

export interface Credentials {
  email: string
  password: string
}

export function CredentialsForm({
  submitLabel,
  newPassword = false,
  onSubmit,
}: {
  submitLabel: string
  /** Register and setup: the password rules apply and the browser may suggest one. */
  newPassword?: boolean
  onSubmit: (credentials: Credentials) => Promise<unknown>
}) {
  const form = useForm<Credentials>({
    mode: 'uncontrolled',
    initialValues: { email: '', password: '' },
    validate: {
      email: (value) => (/^\S+@\S+$/.test(value) ? null : 'Enter an email address'),
      password: (value) =>
        newPassword && value.length < 8
          ? 'At least 8 characters'
          : value === ''
            ? 'Enter your password'
            : null,
    },
  })
  const submit = useMutation({
    mutationFn: onSubmit,
    onError: (error) => form.setErrors(fieldErrors(error)),
  })
  return (
    <form onSubmit={form.onSubmit((values) => submit.mutate(values))} noValidate>
      <Stack>
        <TextInput
          label="Email"
          type="email"
          autoComplete={newPassword ? 'email' : 'username'}
          required
          key={form.key('email')}
          {...form.getInputProps('email')}
        />
        <PasswordInput
          label="Password"
          description={newPassword ? '8 to 128 characters; a passphrase is best' : undefined}
          autoComplete={newPassword ? 'new-password' : 'current-password'}
          required
          key={form.key('password')}
          {...form.getInputProps('password')}
        />
        {submit.error !== null && Object.keys(fieldErrors(submit.error)).length === 0 && (
          <ErrorAlert error={submit.error} title={`${submitLabel} failed`} />
        )}
        <Button type="submit" loading={submit.isPending} fullWidth>
          {submitLabel}
        </Button>
      </Stack>
    </form>
  )
}
