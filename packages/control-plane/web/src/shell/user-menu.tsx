// The signed-in user's menu: sessions, and signing out of this browser.

import { Button, Menu } from '@mantine/core'
import { useQueryClient } from '@tanstack/react-query'
import { Link, useNavigate } from 'react-router'
import { api, ok } from '../api.ts'

export function UserMenu({ email }: { email: string }) {
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const signOut = async () => {
    // Whatever the answer, this browser is signed out: the cookies are cleared or already dead.
    await ok(api.auth.logout.$post()).catch(() => undefined)
    queryClient.clear()
    await navigate('/login', { replace: true })
  }
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button variant="subtle" aria-label={`Account menu of ${email}`}>
          {email}
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Item component={Link} to="/sessions">
          Sessions
        </Menu.Item>
        <Menu.Divider />
        <Menu.Item color="red" onClick={() => void signOut()}>
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  )
}
