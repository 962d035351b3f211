// The signed-in frame: a header with the organisation and project switcher and the user's
// menu, a navigation bar, and the page. Signed out, it sends the user to /login.

import { AppShell, Burger, Center, Group, Loader, NavLink, Text } from '@mantine/core'
import { useDisclosure } from '@mantine/hooks'
import { Link, Navigate, Outlet, useLocation } from 'react-router'
import { ErrorAlert } from '../components/error-alert.tsx'
import { useMe } from '../queries.ts'
import { useCurrent } from './current.ts'
import { OrgProjectSwitcher } from './switcher.tsx'
import { UserMenu } from './user-menu.tsx'

export function Shell() {
  const me = useMe()
  const location = useLocation()
  const [navOpened, nav] = useDisclosure()
  const { org, projectId } = useCurrent()

  if (me.isPending) {
    return (
      <Center mih="100vh">
        <Loader aria-label="Loading" />
      </Center>
    )
  }
  if (me.isError) {
    return <Navigate to="/login" replace state={{ from: location.pathname }} />
  }

  const path = location.pathname
  const project =
    org === undefined || projectId === undefined
      ? undefined
      : `/orgs/${org.id}/projects/${projectId}`
  const links: { to: string; label: string; active: boolean; indent?: boolean }[] = [
    ...(org === undefined
      ? []
      : [
          {
            to: `/orgs/${org.id}/projects`,
            label: 'Projects',
            active: path === `/orgs/${org.id}/projects`,
          },
          // The current project's pages, under it.
          ...(project === undefined
            ? []
            : [
                {
                  to: project,
                  label: 'Connections',
                  active: path === project || path.startsWith(`${project}/connections`),
                  indent: true,
                },
                {
                  to: `${project}/jobs`,
                  label: 'Jobs',
                  active: path.startsWith(`${project}/jobs`),
                  indent: true,
                },
                {
                  to: `${project}/agents`,
                  label: 'Agents',
                  active: path.startsWith(`${project}/agents`),
                  indent: true,
                },
              ]),
          {
            to: `/orgs/${org.id}/keys`,
            label: 'API keys',
            active: path.startsWith(`/orgs/${org.id}/keys`),
          },
        ]),
    { to: '/sessions', label: 'Sessions', active: path.startsWith('/sessions') },
  ]
  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !navOpened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger
              opened={navOpened}
              onClick={nav.toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            <Text component={Link} to="/" fw={700} size="lg" c="indigo">
              DBSnap
            </Text>
            <OrgProjectSwitcher />
          </Group>
          <UserMenu email={me.data.user.email} />
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label="Main">
        {links.map((link) => (
          <NavLink
            key={link.to}
            component={Link}
            to={link.to}
            label={link.label}
            active={link.active}
            pl={link.indent === true ? 'xl' : undefined}
            onClick={nav.close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <OrgsError />
        <Outlet />
      </AppShell.Main>
    </AppShell>
  )
}

/** Shows why the organisations could not be read, above whatever page is open. */
function OrgsError() {
  const { orgs } = useCurrent()
  return orgs.isError ? <ErrorAlert error={orgs.error} title="Organisations unavailable" /> : null
}
