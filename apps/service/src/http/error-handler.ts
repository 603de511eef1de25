import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from '../logging/logger.ts'
import type { LastErrorRecorder } from './last-error.ts'

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
  // pin-update naming a CID outside the pinset (1.x: 404 "not found").
  PinNotFoundError: 404,
  LastPeerError: 409,
}

/**
 * What 1.x's Cluster.Pin refuses, answered as 1.x does (500, its message): bad replication
 * factors, an expiry in the past or a repin 1.x refuses, and "not enough peers to allocate CID.
 * Needed at least: …". The message says what to change, so it is passed on.
 */
const pinningErrors: ReadonlySet<string> = new Set([
  'ReplicationFactorError',
  'PinOptionsError',
  'AllocationError',
])

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
  ConsistentReadError: {
    code: 503,
    message:
      'a consistent read needs the leader to confirm it is still the leader, and it did not in time; retry, or read without consistent=true',
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
  if (pinningErrors.has(error.name)) return { code: 500, message: error.message }
  const status = statusOf(error)
  // Fastify's own 4xx (malformed body, unsupported media type, body too large) say what is wrong.
  if (status !== undefined && status >= 400 && status < 500)
    return { code: status, message: error.message }
  return { code: 500, message: "internal error: see the daemon's log for details" }
}

/**
 * The API's error handler. Conditions with a known cause (no leader, shutting down, timeouts)
 * are logged once per cause at warn, not once per request, until a request succeeds again
 * (`recovered()`); other 5xx are logged at error with their stack.
 */
export function handleError(logger: Logger, lastError?: LastErrorRecorder) {
  const reported = new Set<string>()
  const handler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const body = errorResponse(error)
    if (body.code >= 500) lastError?.record(`${request.method} ${request.url}: ${body.message}`)
    if (serverErrors[error.name] !== undefined) {
      if (!reported.has(error.name)) {
        reported.add(error.name)
        logger.warn(
          { cause: error.name, status: body.code, method: request.method, url: request.url },
          `answering ${body.code}: ${body.message} (logged once until a request succeeds again)`,
        )
      }
    } else if (body.code >= 500 && !pinningErrors.has(error.name)) {
      logger.error({ err: error, method: request.method, url: request.url }, 'request failed')
    } else {
      logger.debug(
        { method: request.method, url: request.url, message: body.message },
        'request refused',
      )
    }
    void reply.code(body.code).type('application/json').send(body)
  }
  return Object.assign(handler, {
    /** A request succeeded: a known cause seen again is worth a new line. */
    recovered: (): void => reported.clear(),
  })
}
