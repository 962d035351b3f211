// A connection's schedules, for its page: the list (cron, time zone, retention, next and last
// run), a form that adds one (cron + time zone + retention rules), a switch that pauses or
// resumes one, and delete. Mounted by the connection page; it fetches on its own through the
// typed client, with a query key under the connection's so a change refreshes only this list.

import {
  Badge,
  Button,
  Code,
  Group,
  NumberInput,
  Paper,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core'
import { useForm } from '@mantine/form'
import { modals } from '@mantine/modals'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { api, ok } from '../api.ts'
import { ErrorAlert, fieldErrors } from '../components/error-alert.tsx'
import { Empty, QueryView } from '../components/page.tsx'
import { formatTime } from '../format.ts'

const COUNT_RULES = ['keepLast', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const
type CountRule = (typeof COUNT_RULES)[number]

const RULE_LABELS: Record<CountRule | 'keepWithin', string> = {
  keepLast: 'Keep last',
  keepDaily: 'Daily',
  keepWeekly: 'Weekly',
  keepMonthly: 'Monthly',
  keepYearly: 'Yearly',
  keepWithin: 'Keep within',
}

type Retention = Partial<Record<CountRule, number>> & { keepWithin?: string }

interface ScheduleForm extends Record<CountRule, number | string> {
  cron: string
  timezone: string
  keepWithin: string
}

export const scheduleKeys = (orgId: string, projectId: string, connectionId: string) =>
  ['orgs', orgId, 'projects', projectId, 'connections', connectionId, 'schedules'] as const

/** The rules of the form that are filled in; null when none is (no retention). */
function retentionOf(values: ScheduleForm): Retention | null {
  const policy: Retention = {}
  for (const rule of COUNT_RULES) {
    if (values[rule] !== '') policy[rule] = Number(values[rule])
  }
  if (values.keepWithin.trim() !== '') policy.keepWithin = values.keepWithin.trim()
  return Object.keys(policy).length === 0 ? null : policy
}

function describeRetention(retention: Retention | null): string {
  if (retention === null) return 'none'
  return Object.entries(retention)
    .map(([rule, value]) => `${RULE_LABELS[rule as CountRule]} ${String(value)}`)
    .join(', ')
}

const browserTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'

export function ConnectionSchedules({
  orgId,
  projectId,
  connectionId,
}: {
  orgId: string
  projectId: string
  connectionId: string
}) {
  const queryClient = useQueryClient()
  const param = { orgId, projectId, connectionId }
  const route = api.orgs[':orgId'].projects[':projectId'].connections[':connectionId'].schedules
  const queryKey = scheduleKeys(orgId, projectId, connectionId)
  const schedules = useQuery({ queryKey, queryFn: () => ok(route.$get({ param })) })
  const refresh = () => queryClient.invalidateQueries({ queryKey })

  const form = useForm<ScheduleForm>({
    initialValues: {
      cron: '0 3 * * *',
      timezone: browserTimeZone(),
      keepLast: 7,
      keepDaily: '',
      keepWeekly: '',
      keepMonthly: '',
      keepYearly: '',
      keepWithin: '',
    },
    validate: { cron: (value) => (value.trim() === '' ? 'Enter a cron expression' : null) },
  })
  const create = useMutation({
    mutationFn: (values: ScheduleForm) =>
      ok(
        route.$post({
          param,
          json: {
            cron: values.cron.trim(),
            timezone: values.timezone.trim() === '' ? 'UTC' : values.timezone.trim(),
            retention: retentionOf(values),
          },
        }),
      ),
    onSuccess: async () => {
      form.reset()
      await refresh()
    },
    onError: (error) => {
      const errors = fieldErrors(error)
      // Retention errors name a rule (`retention.keepWithin`) or the policy as a whole.
      for (const [path, message] of Object.entries(errors)) {
        if (path.startsWith('retention')) {
          errors[path === 'retention' ? 'keepLast' : path.slice('retention.'.length)] = message
        }
      }
      form.setErrors(errors)
    },
  })
  const toggle = useMutation({
    mutationFn: ({ scheduleId, enabled }: { scheduleId: string; enabled: boolean }) =>
      ok(route[':scheduleId'].$patch({ param: { ...param, scheduleId }, json: { enabled } })),
    onSuccess: refresh,
  })
  const remove = useMutation({
    mutationFn: (scheduleId: string) =>
      ok(route[':scheduleId'].$delete({ param: { ...param, scheduleId } })),
    onSuccess: refresh,
  })
  const confirmDelete = (scheduleId: string, cron: string) =>
    modals.openConfirmModal({
      title: 'Delete this schedule?',
      children: (
        <Text size="sm">
          <Code>{cron}</Code> stops running. Snapshots already taken stay.
        </Text>
      ),
      labels: { confirm: 'Delete', cancel: 'Cancel' },
      confirmProps: { color: 'red' },
      onConfirm: () => remove.mutate(scheduleId),
    })

  return (
    <Stack data-testid="connection-schedules">
      <Title order={2} size="h4">
        Schedules
      </Title>
      <ErrorAlert error={toggle.error ?? remove.error} title="Not done" />
      <QueryView query={schedules}>
        {({ items }) =>
          items.length === 0 ? (
            <Empty>No schedule yet: snapshots run only when asked for.</Empty>
          ) : (
            <Table striped verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Cron</Table.Th>
                  <Table.Th>Time zone</Table.Th>
                  <Table.Th>Retention</Table.Th>
                  <Table.Th>Next run</Table.Th>
                  <Table.Th>Last run</Table.Th>
                  <Table.Th>Enabled</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((schedule) => (
                  <Table.Tr key={schedule.id} data-testid="schedule-row">
                    <Table.Td>
                      <Code>{schedule.cron}</Code>
                    </Table.Td>
                    <Table.Td>{schedule.timezone}</Table.Td>
                    <Table.Td>{describeRetention(schedule.retention)}</Table.Td>
                    <Table.Td>
                      {schedule.enabled ? (
                        formatTime(schedule.nextRunAt, 'never')
                      ) : (
                        <Badge color="gray" variant="light">
                          paused
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{formatTime(schedule.lastRunAt, 'never')}</Table.Td>
                    <Table.Td>
                      <Switch
                        checked={schedule.enabled}
                        aria-label={schedule.enabled ? 'Pause the schedule' : 'Resume the schedule'}
                        onChange={(event) =>
                          toggle.mutate({
                            scheduleId: schedule.id,
                            enabled: event.currentTarget.checked,
                          })
                        }
                      />
                    </Table.Td>
                    <Table.Td>
                      <Group justify="flex-end">
                        <Button
                          size="xs"
                          variant="light"
                          color="red"
                          onClick={() => confirmDelete(schedule.id, schedule.cron)}
                        >
                          Delete
                        </Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryView>
      <Paper withBorder p="md">
        <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
          <Stack>
            <Title order={4}>Add a schedule</Title>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput
                label="Cron"
                description="5 fields (minute hour day month weekday), or 6 with seconds"
                required
                {...form.getInputProps('cron')}
              />
              <TextInput
                label="Time zone"
                description="IANA name, e.g. Europe/Paris"
                {...form.getInputProps('timezone')}
              />
            </SimpleGrid>
            <Text size="sm" fw={500}>
              Retention after each scheduled snapshot (empty: keep everything)
            </Text>
            <SimpleGrid cols={{ base: 2, sm: 3 }}>
              {COUNT_RULES.map((rule) => (
                <NumberInput
                  key={rule}
                  label={RULE_LABELS[rule]}
                  min={0}
                  allowDecimal={false}
                  {...form.getInputProps(rule)}
                />
              ))}
              <TextInput
                label={RULE_LABELS.keepWithin}
                placeholder="30d"
                {...form.getInputProps('keepWithin')}
              />
            </SimpleGrid>
            {create.error !== null && Object.keys(fieldErrors(create.error)).length === 0 && (
              <ErrorAlert error={create.error} title="Not added" />
            )}
            <Group justify="flex-end">
              <Button type="submit" loading={create.isPending}>
                Add schedule
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </Stack>
  )
}
