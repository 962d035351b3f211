// Any path the web view does not know.

import { Anchor, Text } from '@mantine/core'
import { Link } from 'react-router'
import { PageHeader } from '../components/page.tsx'

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Text>
        Nothing here.{' '}
        <Anchor component={Link} to="/">
          Back to the start
        </Anchor>
      </Text>
    </>
  )
}
