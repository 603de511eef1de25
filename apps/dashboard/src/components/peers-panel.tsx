import type { PeerId, RaftStatus } from '../api-types.ts'
import { formatNumber, shortId } from '../format.ts'
import type { Polled } from '../polling.ts'

/** One row: what `/raft/status?all=true` and `/peers` say of a member, joined by peer ID. */
interface PeerRow {
  readonly id: string
  readonly raft: RaftStatus | undefined
  readonly peer: PeerId | undefined
}

function rowsOf(
  raft: readonly RaftStatus[],
  peers: readonly PeerId[],
  names: ReadonlyMap<string, string>,
): PeerRow[] {
  const ids = [...new Set([...raft.map((entry) => entry.peer), ...peers.map((entry) => entry.id)])]
  return ids
    .map((id) => ({
      id,
      raft: raft.find((entry) => entry.peer === id),
      peer: peers.find((entry) => entry.id === id),
    }))
    .sort((first, second) => nameOf(first, names).localeCompare(nameOf(second, names)))
}

function nameOf(row: PeerRow, names: ReadonlyMap<string, string>): string {
  return row.raft?.peername || row.peer?.peername || names.get(row.id) || row.id
}

/** The cluster's members with their Raft role, indexes, readiness and IPFS node. */
export function PeersPanel(props: {
  self: string | undefined
  raft: Polled<RaftStatus[]>
  peers: Polled<PeerId[]>
  /** Names seen earlier, for a peer that cannot be asked now. */
  names: ReadonlyMap<string, string>
  onRemove(peer: string, name: string): void
}) {
  const rows = rowsOf(props.raft.value ?? [], props.peers.value ?? [], props.names)
  const leaders = rows.filter((row) => row.raft?.role === 'leader')
  return (
    <section id="cluster" aria-labelledby="cluster-title">
      <h2 id="cluster-title">
        Cluster <span class="count">{rows.length} peers</span>
        <span class="leader-summary" data-testid="leader-summary">
          {leaders.length === 1
            ? `leader: ${nameOf(leaders[0] as PeerRow, props.names)}`
            : leaders.length === 0
              ? 'no leader'
              : `${leaders.length} peers claim leadership`}
        </span>
      </h2>
      {props.raft.unavailable ? (
        <p class="note">
          GET /raft/status is not available on this peer: roles, terms and indexes are not shown.
        </p>
      ) : null}
      {props.raft.error !== null && !props.raft.unavailable ? (
        <p class="note error">Raft status: {props.raft.error.message}</p>
      ) : null}
      <div class="table-scroll">
        <table class="peers">
          <thead>
            <tr>
              <th scope="col">Peer</th>
              <th scope="col">Role</th>
              <th scope="col">Term</th>
              <th scope="col">Commit / applied</th>
              <th scope="col">Lag</th>
              <th scope="col">Ready</th>
              <th scope="col">IPFS node</th>
              <th scope="col">Last error</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const raft = row.raft
              const unreachable = (raft?.error ?? '') !== '' || (row.peer?.error ?? '') !== ''
              const role = unreachable ? 'unreachable' : (raft?.role ?? 'unknown')
              const name = nameOf(row, props.names)
              return (
                <tr
                  key={row.id}
                  data-peer={row.id}
                  data-role={role}
                  class={unreachable ? 'down' : ''}
                >
                  <th scope="row">
                    <span class="peer-name">{name}</span>
                    {row.id === props.self ? <span class="tag">this peer</span> : null}
                    <code class="peer-id" title={row.id}>
                      {shortId(row.id)}
                    </code>
                    {row.peer !== undefined && row.peer.addresses.length > 0 ? (
                      <details>
                        <summary>
                          {row.peer.addresses.length === 1
                            ? '1 address'
                            : `${row.peer.addresses.length} addresses`}
                        </summary>
                        <ul class="addresses">
                          {row.peer.addresses.map((address) => (
                            <li key={address}>
                              <code>{address}</code>
                            </li>
                          ))}
                        </ul>
                      </details>
                    ) : null}
                  </th>
                  <td data-label="Role">
                    <span class={`role role-${role}`}>{role}</span>
                  </td>
                  <td data-label="Term">{raft === undefined || unreachable ? '–' : raft.term}</td>
                  <td data-label="Commit / applied">
                    {raft === undefined || unreachable
                      ? '–'
                      : `${raft.commit_index} / ${raft.applied_index}`}
                  </td>
                  <td data-label="Lag">{unreachable ? '–' : formatNumber(raft?.lag)}</td>
                  <td data-label="Ready">
                    {raft === undefined || unreachable ? (
                      '–'
                    ) : raft.ready ? (
                      <span class="ok">ready</span>
                    ) : (
                      <span class="warn" title={raft.waiting_for}>
                        not ready
                      </span>
                    )}
                    {raft !== undefined && !raft.ready && raft.waiting_for !== '' ? (
                      <small class="reason">{raft.waiting_for}</small>
                    ) : null}
                  </td>
                  <td data-label="IPFS node">
                    {row.peer?.ipfs.id !== undefined ? (
                      <code title={row.peer.ipfs.addresses.join('\n')}>
                        {shortId(row.peer.ipfs.id)}
                      </code>
                    ) : (
                      <span class="warn">{row.peer?.ipfs.error || '–'}</span>
                    )}
                  </td>
                  <td class="last-error" data-label="Last error">
                    {raft?.error || row.peer?.error || raft?.last_error || '–'}
                    {raft?.last_error_at ? <small>{raft.last_error_at}</small> : null}
                  </td>
                  <td>
                    <button
                      type="button"
                      class="danger small"
                      onClick={() => props.onRemove(row.id, name)}
                      aria-label={`Remove peer ${name}`}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </div>
    </section>
  )
}
