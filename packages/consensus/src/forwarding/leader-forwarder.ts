import type { Libp2p } from '@libp2p/interface'
import type { Logger } from '@pinraft/raft-core'
import type { RpcRequest } from '../rpc/rpc-protocol.ts'
import { forwardToLeader, indexOrThrow } from './forward.ts'
import { LeaderChannels, PipelineUnsupportedError } from './leader-channel.ts'

export interface LeaderForwarderComponents {
  libp2p: Pick<Libp2p, 'dialProtocol'>
  logger: Logger
}

/**
 * A follower's way to the leader: pins on the pipelined stream to it, peerset changes (rare,
 * and long enough to hold up the pins answered after them) on a stream of their own, and every
 * request on a stream of its own to a leader of an older version without the pipelined protocol.
 */
export class LeaderForwarder {
  private readonly components: LeaderForwarderComponents
  private readonly channels: LeaderChannels
  /** Leaders that do not speak the pipelined protocol (an older version). */
  private readonly singleShotLeaders = new Set<string>()
  private answered = 0

  constructor(components: LeaderForwarderComponents) {
    this.components = components
    this.channels = new LeaderChannels(components)
  }

  /** Operations sent to the leader and answered by it (`proposalsForwarded` in status). */
  get forwarded(): number {
    return this.answered
  }

  /** Sends `request` to `leader`: the index at which the leader applied it, or its error. */
  async forward(leader: string, request: RpcRequest, signal: AbortSignal): Promise<number> {
    const index = await this.send(leader, request, signal)
    this.answered++
    return index
  }

  private async send(leader: string, request: RpcRequest, signal: AbortSignal): Promise<number> {
    if (request.kind === 'log' && !this.singleShotLeaders.has(leader)) {
      try {
        return indexOrThrow(await this.channels.send(leader, request, signal))
      } catch (error) {
        if (!(error instanceof PipelineUnsupportedError)) throw error
        this.singleShotLeaders.add(leader)
      }
    }
    return forwardToLeader(this.components, leader, request, signal)
  }

  /** Closes the streams to leaders; requests still unanswered fail. */
  async stop(): Promise<void> {
    await this.channels.stop()
  }
}
