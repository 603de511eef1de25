import fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { replySignal } from '../src/http/reply-signal.ts'

let app: FastifyInstance | undefined

afterEach(async () => {
  await app?.close()
  app = undefined
})

async function serve(
  handler: (signal: AbortSignal) => Promise<string>,
): Promise<{ url: string; signals: AbortSignal[] }> {
  const signals: AbortSignal[] = []
  const server = fastify()
  app = server
  server.get('/', async (_request, reply) => {
    const signal = replySignal(reply)
    signals.push(signal)
    return handler(signal)
  })
  const url = await server.listen({ host: '127.0.0.1', port: 0 })
  return { url, signals }
}

describe('replySignal', () => {
  it('aborts the work of a request whose client goes away before the answer', async () => {
    let aborted: () => void = () => {}
    const abortSeen = new Promise<void>((resolve) => {
      aborted = resolve
    })
    const { url } = await serve(
      (signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener(
            'abort',
            () => {
              aborted()
              reject(new Error('aborted'))
            },
            { once: true },
          )
        }),
    )
    const client = new AbortController()
    const request = fetch(url, { signal: client.signal })
    await new Promise((resolve) => setTimeout(resolve, 50))
    client.abort()
    await expect(request).rejects.toThrow()
    await abortSeen
  })

  it('aborts nothing once the answer was sent', async () => {
    const { url, signals } = await serve(async () => 'done')
    const response = await fetch(url, { headers: { connection: 'close' } })
    expect(await response.text()).toBe('done')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(signals).toHaveLength(1)
    expect(signals[0]!.aborted).toBe(false)
  })
})
