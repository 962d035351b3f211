// The web view's entry: Mantine's theme and notifications, TanStack Query, and the router.

import '@mantine/core/styles.css'
import '@mantine/notifications/styles.css'
import { MantineProvider } from '@mantine/core'
import { ModalsProvider } from '@mantine/modals'
import { Notifications } from '@mantine/notifications'
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { setNonce } from 'get-nonce'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { RouterProvider } from 'react-router'
import { ApiError, onSignedOut } from './api.ts'
import { styleNonce } from './csp-nonce.ts'
import { createAppRouter } from './routes.tsx'
import { cssVariablesResolver, theme } from './theme.ts'

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // A client error will not change by asking again; a network blip may.
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    },
  },
})

const router = createAppRouter(queryClient)

onSignedOut(() => {
  queryClient.clear()
  const { pathname } = window.location
  if (!['/login', '/register', '/setup'].includes(pathname)) {
    void router.navigate('/login', { state: { from: pathname, expired: true } })
  }
})

const nonce = styleNonce()
// Mantine's modals lock scrolling with react-remove-scroll, whose `<style>` takes this nonce.
setNonce(nonce)
const root = document.getElementById('root')
if (root === null) throw new Error('index.html has no #root element')
createRoot(root).render(
  <StrictMode>
    <MantineProvider
      theme={theme}
      cssVariablesResolver={cssVariablesResolver}
      getStyleNonce={() => nonce}
    >
      <Notifications position="top-right" />
      <QueryClientProvider client={queryClient}>
        <ModalsProvider>
          <RouterProvider router={router} />
        </ModalsProvider>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
)
