import type { Configuration } from '@pinraft/raft-core'
import type { IncomingSnapshot } from '../membership/observed-transport.ts'
import type { DamagedSnapshot } from '../startup/damaged-snapshot.ts'

/** What a peer that is not ready waits for; `kind` picks the log level. */
export interface Waiting {
  readonly kind: 'stopped' | 'membership' | 'leader' | 'catch-up'
  readonly reason: string
}

export interface WaitingInput {
  readonly peerId: string
  /** Raft stopped for good (fail-stop), or consensus was shut down. */
  readonly failure: Error | undefined
  readonly shutDown: boolean
  /** Initial readiness (sticky): a voter, caught up with a leader once. */
  readonly ready: boolean
  readonly leader: string | null
  readonly term: number
  /** The configuration in force here (the latest in the log). */
  readonly configuration: Configuration
  readonly appliedIndex: number
  readonly commitIndex: number
  readonly lastIndex: number
  readonly incomingSnapshot: IncomingSnapshot | undefined
  /** The damaged snapshot this peer must catch up past before it is ready. */
  readonly damagedSnapshot: DamagedSnapshot | null
}

const leaderCauses =
  'likely causes: fewer than a majority of the voters are running and reachable, a network partition, or a different cluster secret on some peers'
const membershipCauses =
  'likely causes: the join request reached no member (an unreachable --bootstrap peer), a different cluster secret, join_allow_list on the leader, or another peer joining at the same time'

function list(ids: readonly string[]): string {
  return ids.length === 0 ? 'none' : ids.join(', ')
}

/**
 * Why this peer is not ready to serve right now, in words an operator can act on, or null when
 * it is: ready once, a leader known, a member. Answered by `status().waitingFor` (what
 * `/health/ready` reports) and logged every few seconds while it lasts.
 */
export function waitingFor(input: WaitingInput): Waiting | null {
  const { configuration, peerId } = input
  if (input.failure !== undefined) {
    return {
      kind: 'stopped',
      reason: `a restart: Raft stopped after a storage failure (${input.failure.message}); fix the cause (a full or failing disk?) and restart the peer`,
    }
  }
  if (input.shutDown) return { kind: 'stopped', reason: 'nothing: consensus is shut down' }
  const members = [...configuration.voters, ...configuration.staging, ...configuration.nonVoters]
  if (!members.includes(peerId)) {
    if (members.length === 0) {
      return {
        kind: 'membership',
        reason: `to be added to the cluster: no leader has added this peer (${peerId}) yet (${membershipCauses})`,
      }
    }
    return {
      kind: 'membership',
      reason: `to be added to the cluster: this peer is not in the peerset (${list(members)}), it was removed; rejoin with \`pinraft daemon --bootstrap <multiaddress of a member>\``,
    }
  }
  const incoming = input.incomingSnapshot
  if (incoming !== undefined) {
    return {
      kind: 'catch-up',
      reason: `to catch up: receiving a snapshot of index ${incoming.index} from ${incoming.from} (${incoming.bytes} bytes so far)`,
    }
  }
  if (input.leader === null) {
    return {
      kind: 'leader',
      reason: `a leader: none known in term ${input.term}; the voters are ${list(configuration.voters)} (${leaderCauses})`,
    }
  }
  const target = Math.max(input.commitIndex, input.lastIndex)
  if (!configuration.voters.includes(peerId)) {
    return {
      kind: 'catch-up',
      reason: `to catch up with the leader ${input.leader} and be promoted to voter: index ${input.appliedIndex} of ${target} applied`,
    }
  }
  const damaged = input.damagedSnapshot
  if (damaged !== null && input.appliedIndex < damaged.index) {
    return {
      kind: 'catch-up',
      reason: `to catch up past the damaged snapshot ${damaged.folder} (index ${damaged.index}): index ${input.appliedIndex} applied; this peer started from an older snapshot (index ${damaged.startsFrom}) and serves an older pinset until then`,
    }
  }
  if (!input.ready) {
    return {
      kind: 'catch-up',
      reason: `to catch up with the leader ${input.leader}: index ${input.appliedIndex} of ${target} applied`,
    }
  }
  return null
}
