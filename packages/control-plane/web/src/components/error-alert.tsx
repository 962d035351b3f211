// Shows a failed call the way the API describes it: its message, and the trace id that finds
// the request in the service's logs.

import { Alert, Text } from '@mantine/core'
import { ApiError } from '../api.ts'

/** Words for codes whose API message is written for scripts rather than people. */
const FRIENDLY: Record<string, string> = {
  INVALID_CREDENTIALS: 'Invalid email or password.',
  REGISTRATION_CLOSED:
    'Sign-up is closed on this instance. Ask an administrator to create an account for you.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
  NETWORK: 'The control plane cannot be reached. Check your connection and try again.',
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return FRIENDLY[error.code] ?? error.message
  return error instanceof Error ? error.message : String(error)
}

export function ErrorAlert({
  error,
  title = 'Something went wrong',
}: {
  error: unknown
  title?: string
}) {
  if (error == null) return null
  const traceId = error instanceof ApiError ? error.traceId : undefined
  return (
    <Alert color="red" title={title} role="alert" variant="light">
      <Text size="sm">{messageOf(error)}</Text>
      {traceId !== undefined && traceId !== '' && (
        <Text size="xs" c="dimmed" mt={4}>
          {error instanceof ApiError && `${error.code} · `}trace id {traceId}
        </Text>
      )}
    </Alert>
  )
}

/** Field errors of an INVALID_ARGUMENT, as a form's `setErrors` takes them. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {}
  return Object.fromEntries(error.fields.map((field) => [field.path, field.message]))
}
