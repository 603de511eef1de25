import type { ConsensusEvents, PinsetView } from '@pinraft/consensus'

/** What the tracker needs from consensus: the applied operations and the pinset. */
export interface TrackerConsensus {
  addEventListener<K extends 'pin:add' | 'pin:remove' | 'state:restore'>(
    type: K,
    listener: (event: CustomEvent<ConsensusEvents[K]>) => void,
    options?: { once?: boolean; signal?: AbortSignal },
  ): void
  state(): PinsetView
}
