import type { FastifyReply } from 'fastify'

/**
 * Aborted when the response closes: it was sent, or the client went away. (The request's own
 * `close` fires once its body was read, which for a bodyless POST is at once.)
 */
export function replySignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => controller.abort())
  return controller.signal
}
