import { useEffect, useRef, useState } from 'preact/hooks'
import type { DashboardApi } from '../api.ts'
import { type GlobalPinInfo, recoverableStatuses } from '../api-types.ts'
import { shortId } from '../format.ts'
import {
  countsByPeer,
  overallStatus,
  pinsNeedingRecovery,
  searchPins,
  statusesPresent,
} from '../pin-summary.ts'
import type { Polled } from '../polling.ts'

const shownRows = 100

/** Pins: counts by status per peer, the ones to recover, a search, one pin's global status. */
export function PinsPanel(props: {
  api: DashboardApi
  pins: Polled<{ values: GlobalPinInfo[]; truncated: boolean }>
  onRecover(cid: string): void
  onUnpin(cid: string): void
}) {
  const [query, setQuery] = useState('')
  const [selected, setSelected] = useState<string | null>(null)
  const [detail, setDetail] = useState<GlobalPinInfo | null>(null)
  const [detailError, setDetailError] = useState<string | null>(null)
  const pins = props.pins.value?.values ?? []
  const counts = countsByPeer(pins)
  const statuses = statusesPresent(counts)
  const attention = pinsNeedingRecovery(pins)
  const found = searchPins(pins, query)
  const updatedAt = props.pins.updatedAt
  const detailHeading = useRef<HTMLHeadingElement>(null)

  // A keyboard user who opened a pin lands on it, not back at the list.
  useEffect(() => {
    if (selected !== null) detailHeading.current?.focus()
  }, [selected])

  // The selected pin's global status, asked again whenever the list is refreshed.
  useEffect(() => {
    if (selected === null) return
    const controller = new AbortController()
    props.api
      .pin(selected, controller.signal)
      .then((pin) => {
        setDetail(pin)
        setDetailError(null)
      })
      .catch((error: Error) => {
        if (error.name !== 'AbortError') setDetailError(error.message)
      })
    return () => controller.abort()
  }, [selected, updatedAt, props.api])

  const onSearch = (event: Event) => {
    event.preventDefault()
    const wanted = query.trim()
    // A CID that is not in the list (or not in the pinset) is still worth its global status.
    if (wanted !== '' && found.length === 0) setSelected(wanted)
    else if (found.length === 1) setSelected((found[0] as GlobalPinInfo).cid)
  }

  return (
    <section id="pins" aria-labelledby="pins-title">
      <h2 id="pins-title">
        Pins{' '}
        <span class="count">
          {pins.length}
          {props.pins.value?.truncated ? '+' : ''}
        </span>
      </h2>
      {props.pins.error !== null ? (
        <p class="note error">Pins: {props.pins.error.message}</p>
      ) : null}
      <div class="table-scroll">
        <table class="counts">
          <caption>Pins by status on each peer</caption>
          <thead>
            <tr>
              <th scope="col">Peer</th>
              {statuses.map((status) => (
                <th scope="col" key={status}>
                  {status}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {[...counts.entries()]
              .sort(([first], [second]) => first.localeCompare(second))
              .map(([peer, row]) => (
                <tr key={peer}>
                  <th scope="row">{peer}</th>
                  {statuses.map((status) => (
                    <td key={status} class={`status-${status}`}>
                      {row.get(status) ?? 0}
                    </td>
                  ))}
                </tr>
              ))}
          </tbody>
        </table>
      </div>

      <h3>Needing recovery</h3>
      {attention.length === 0 ? (
        <p class="note">No pin is in pin_error, unexpectedly_unpinned or unpin_error.</p>
      ) : (
        <ul class="attention">
          {attention.map((pin) => {
            const failing = Object.values(pin.peer_map).filter((info) =>
              recoverableStatuses.includes(info.status),
            )
            return (
              <li key={pin.cid} data-cid={pin.cid}>
                <code title={pin.cid}>{shortId(pin.cid)}</code> {pin.name}
                <span class="failing">
                  {failing.map((info) => `${info.peername}: ${info.status}`).join(', ')}
                </span>
                <button
                  type="button"
                  onClick={() => props.onRecover(pin.cid)}
                  aria-label={`Recover ${pin.name || pin.cid}`}
                >
                  Recover
                </button>
              </li>
            )
          })}
        </ul>
      )}

      <h3>Find a pin</h3>
      <form class="search" onSubmit={onSearch} aria-label="Find a pin">
        <label for="pin-search">CID or name</label>
        <input
          id="pin-search"
          type="search"
          value={query}
          onInput={(event) => setQuery((event.target as HTMLInputElement).value)}
          placeholder="bafy… or a name"
        />
        <button type="submit">Show</button>
      </form>
      <div class="table-scroll">
        <table class="pins">
          <thead>
            <tr>
              <th scope="col">CID</th>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="visually-hidden">Details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {found.slice(0, shownRows).map((pin) => (
              <tr key={pin.cid} data-cid={pin.cid} data-status={overallStatus(pin)}>
                <td>
                  <code title={pin.cid}>{shortId(pin.cid)}</code>
                </td>
                <td>{pin.name}</td>
                <td>{overallStatus(pin)}</td>
                <td>
                  <button
                    type="button"
                    class="small"
                    onClick={() => setSelected(pin.cid)}
                    aria-label={`Details of ${pin.name || pin.cid}`}
                  >
                    Details
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {found.length > shownRows ? (
        <p class="note">{found.length - shownRows} more: narrow the search to see them.</p>
      ) : null}

      {selected === null ? null : (
        <div class="pin-detail" aria-live="polite" data-cid={selected}>
          <h3 ref={detailHeading} tabIndex={-1}>
            Global status of <code>{selected}</code>
          </h3>
          {detailError !== null ? <p class="note error">{detailError}</p> : null}
          {detail !== null && detail.cid === selected ? (
            <>
              <p>
                {detail.name === '' ? 'no name' : `name ${detail.name}`} · allocations{' '}
                {detail.allocations === null || detail.allocations.length === 0
                  ? 'every peer'
                  : detail.allocations.map(shortId).join(', ')}
              </p>
              <div class="table-scroll">
                <table class="peer-map">
                  <thead>
                    <tr>
                      <th scope="col">Peer</th>
                      <th scope="col">Status</th>
                      <th scope="col">Since</th>
                      <th scope="col">Error</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(detail.peer_map).map(([peer, info]) => (
                      <tr key={peer} data-peer={peer} data-status={info.status}>
                        <th scope="row">{info.peername || shortId(peer)}</th>
                        <td class={`status-${info.status}`}>{info.status}</td>
                        <td>{info.timestamp}</td>
                        <td>{info.error || '–'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <div class="buttons">
                <button type="button" onClick={() => props.onRecover(selected)}>
                  Recover
                </button>
                <button type="button" class="danger" onClick={() => props.onUnpin(selected)}>
                  Unpin
                </button>
                <button type="button" onClick={() => setSelected(null)}>
                  Close
                </button>
              </div>
            </>
          ) : null}
        </div>
      )}
    </section>
  )
}
