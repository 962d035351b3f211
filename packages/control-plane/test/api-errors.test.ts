// The API skeleton on both dialects: the OpenAPI document, and one error shape with stable codes
// for every kind of bad request (malformed JSON, unknown fields, oversized or non-JSON bodies).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, uniqueEmail, PASSWORD, type Harness } from './api-harness.js'

describe.each(DIALECTS)('API errors on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await harness(dialect, { maxBodyBytes: 1024 })
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  it('serves an OpenAPI 3.1 document of its routes, generated from their schemas', async () => {
    const res = await h.call('GET', '/api/v1/openapi.json')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as {
      openapi: string
      paths: Record<string, Record<string, unknown>>
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> }
    }
    expect(doc.openapi).toBe('3.1.0')
    // Every route is listed: the route x role matrix (api-matrix.test.ts) walks them all.
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/auth/login', '/sessions/{id}', '/orgs/{orgId}/projects']),
    )
    expect(Object.keys(doc.paths['/sessions']!).sort()).toEqual(['delete', 'get'])
    expect(doc.components.schemas).toHaveProperty('Error')
    expect(doc.components.schemas).toHaveProperty('Credentials')
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual([
      'agent',
      'apiKey',
      'bearer',
      'cookie',
    ])
  })

  it('answers an unknown route with NOT_FOUND in the error shape, with the trace id', async () => {
    const res = await h.call('GET', '/api/v1/nope')
    expect(res.status).toBe(404)
    const error = await errorOf(res)
    expect(error).toMatchObject({ code: 'NOT_FOUND' })
    expect(error.traceId).toBe(res.headers.get('x-trace-id'))
  })

  it('refuses malformed JSON', async () => {
    const res = await h.call('POST', '/api/v1/auth/login', { body: '{"email": "a@example.com",' })
    expect(res.status).toBe(400)
    expect(await errorOf(res)).toMatchObject({ code: 'INVALID_JSON' })
  })

  it('refuses unknown fields, naming them', async () => {
    const res = await h.call('POST', '/api/v1/auth/register', {
      body: { email: uniqueEmail(), password: PASSWORD, isAdmin: true },
    })
    expect(res.status).toBe(400)
    const error = await errorOf(res)
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.fields).toEqual([{ path: 'isAdmin', message: expect.any(String) as string }])
  })

  it('names each invalid field', async () => {
    const res = await h.call('POST', '/api/v1/auth/register', {
      body: { email: 'not-an-email', password: 42 },
    })
    expect(res.status).toBe(400)
    const error = await errorOf(res)
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.fields?.map((f) => f.path).sort()).toEqual(['email', 'password'])
    expect(error.message).toMatch(/^email: .*; password: /)
  })

  it('refuses a body over the limit with 413, and a body that is not JSON with 415', async () => {
    const big = await h.call('POST', '/api/v1/auth/login', {
      body: { email: uniqueEmail(), password: 'x'.repeat(2000) },
    })
    expect(big.status).toBe(413)
    expect(await errorOf(big)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    const form = await h.call('POST', '/api/v1/auth/login', {
      body: 'email=a%40example.com&password=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(form.status).toBe(415)
    expect(await errorOf(form)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' })
  })

  it('answers an unexpected failure with INTERNAL, without stack or SQL', async () => {
    const broken = await harness(dialect)
    await broken.cp.drop()
    const res = await broken.call('POST', '/api/v1/auth/login', {
      body: { email: uniqueEmail(), password: PASSWORD },
    })
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({
      error: {
        code: 'INTERNAL',
        message: 'internal error; the trace id finds it in the logs',
        traceId: res.headers.get('x-trace-id'),
      },
    })
    expect(text).not.toMatch(/select|insert|at .*\.ts|sqlite|postgres/i)
  })
})
