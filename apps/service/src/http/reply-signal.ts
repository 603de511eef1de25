import type { FastifyReply } from 'fastify'

/**
 * Aborted when the response closes before it was all sent: the client went away. (The request's
 * own `close` fires once its body was read, which for a bodyless POST is at once.) A response
 * that finished aborts nothing: the work behind it is over, and an abort builds an exception.
 */
export function replySignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  const response = reply.raw
  response.once('close', () => {
    if (!response.writableFinished) controller.abort()
  })
  return controller.signal
}
