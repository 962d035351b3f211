// Authenticates a request of the agent API by the agent's credential (`Authorization: Bearer
// dbsa_…`): the agent must exist and not be revoked. People's tokens and API keys are refused
// here, and the agent's credential is refused everywhere else (it is not an access token).

import { createMiddleware } from 'hono/factory'
import type { ApiContext } from '../api/context.js'
import type { AppEnv } from '../api/router.js'
import { findAgentByCredential, looksLikeAgentCredential, touchAgent } from '../data/agents.js'
import { unauthenticated } from './authenticate.js'

export function authenticateAgent(ctx: ApiContext) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const match = /^Bearer (\S+)$/i.exec(c.req.header('authorization')?.trim() ?? '')
    const credential = match?.[1]
    if (credential === undefined || !looksLikeAgentCredential(credential)) {
      throw unauthenticated('the agent API takes an agent credential: Authorization: Bearer dbsa_…')
    }
    const agent = await findAgentByCredential(ctx.db, credential)
    if (agent === undefined) throw unauthenticated('the agent credential is invalid or revoked')
    await ctx.limiter.hit('perUser', `agent:${agent.id}`)
    await touchAgent(ctx.db, agent)
    c.set('agent', agent)
    await next()
  })
}
