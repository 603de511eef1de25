import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../logging/logger.ts'

/** IPFS Cluster's error body: `{"code": <status>, "message": "..."}`. */
export interface ErrorJson {
  code: number
  message: string
}

/** Client errors: the error's own message tells the client what to fix. */
const clientErrors: Readonly<Record<string, number>> = {
  InvalidCidError: 400,
  InvalidPinError: 400,
  InvalidParameterError: 400,
  UnknownPeerError: 400,
  InvalidPeerIdError: 400,
  OperationRejectedError: 400,
  UnauthorizedError: 401,
  NotFoundError: 404,
  LastPeerError: 409,
}

/**
 * Server-side conditions a client can act on. Their messages are fixed here, never taken from the
 * error, so nothing internal leaks in a 5xx.
 */
const serverErrors: Readonly<Record<string, ErrorJson>> = {
  NotLeaderError: {
    code: 503,
    message:
      'the cluster has no leader right now (an election is under way); retry in a few seconds',
  },
  NoLeaderError: {
    code: 503,
    message:
      'the cluster has no leader: a majority of its peers may be down or unreachable; check `pinraft peers ls` and retry',
  },
  ConsensusShutdownError: {
    code: 503,
    message: 'this peer is shutting down; send the request to another peer',
  },
  OutcomeUnknownError: {
    code: 504,
    message:
      'the operation was sent but not confirmed in time: it may or may not have been applied; check with GET /allocations/{cid} before retrying',
  },
  TimeoutError: {
    code: 504,
    message:
      'the operation timed out: it may or may not have been applied; check the state before retrying',
  },
}

function statusOf(error: FastifyError): number | undefined {
  return typeof error.statusCode === 'number' ? error.statusCode : undefined
}

/** Maps an error to its status and body; exported for the tests of the mapping itself. */
export function errorResponse(error: FastifyError): ErrorJson {
  if (error.validation !== undefined)
    return { code: 400, message: `invalid request: ${error.message}` }
  const client = clientErrors[error.name]
  if (client !== undefined) return { code: client, message: error.message }
  const server = serverErrors[error.name]
  if (server !== undefined) return server
  const status = statusOf(error)
  // Fastify's own 4xx (malformed body, unsupported media type, body too large) say what is wrong.
  if (status !== undefined && status >= 400 && status < 500)
    return { code: status, message: error.message }
  return { code: 500, message: "internal error: see the daemon's log for details" }
}

export function handleError(logger: Logger) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const body = errorResponse(error)
    if (body.code >= 500) {
      logger.error({ err: error, method: request.method, url: request.url }, 'request failed')
    } else {
      logger.debug(
        { method: request.method, url: request.url, message: body.message },
        'request refused',
      )
    }
    if (body.code === 401) reply.header('www-authenticate', 'Basic realm="Restricted"')
    void reply.code(body.code).type('application/json').send(body)
  }
}
