import type { AbortOptions } from '@pinraft/consensus'
import type { IpfsConnector, IpfsId } from '@pinraft/ipfs-connector'
import type { Clock, Logger } from '@pinraft/raft-core'
import { messageOf } from './error-message.ts'

const ipfsIdMaxAge = 60_000

/** The IPFS node's identity for status lines, read at most once a minute. */
export class IpfsIdentity {
  readonly #connector: IpfsConnector
  readonly #clock: Clock
  readonly #logger: Logger
  #ipfsId: { id: IpfsId; at: number } | null = null

  constructor(connector: IpfsConnector, clock: Clock, logger: Logger) {
    this.#connector = connector
    this.#clock = clock
    this.#logger = logger
  }

  async read(options?: AbortOptions): Promise<IpfsId> {
    const now = this.#clock.now()
    if (this.#ipfsId !== null && now - this.#ipfsId.at < ipfsIdMaxAge) return this.#ipfsId.id
    try {
      const id = await this.#connector.id(options)
      this.#ipfsId = { id, at: now }
      return id
    } catch (error) {
      options?.signal?.throwIfAborted()
      // As 1.x: the status is still given, without the IPFS node's identity.
      this.#logger.debug('could not read the IPFS node identity', { error: messageOf(error) })
      return this.#ipfsId?.id ?? { id: '', addresses: [] }
    }
  }
}
