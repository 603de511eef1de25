import { useMemo, useRef, useState } from 'preact/hooks'
import { DashboardApi } from '../api.ts'
import { shortId } from '../format.ts'
import { type ChartPoint, MetricsHistory, readingFromSamples } from '../metrics-history.ts'
import { usePolled } from '../polling.ts'
import { parsePrometheus } from '../prometheus.ts'
import { ActionsPanel, type PinRequest } from './actions-panel.tsx'
import { useConfirm } from './confirm-dialog.tsx'
import { GraphPanel } from './graph-panel.tsx'
import { MetricsPanel } from './metrics-panel.tsx'
import { PeersPanel } from './peers-panel.tsx'
import { PinsPanel } from './pins-panel.tsx'

interface Notice {
  readonly kind: 'ok' | 'error'
  readonly text: string
}

/** The dashboard: everything it shows is polled from this peer's public API. */
export function App(props: { api?: DashboardApi }) {
  // Absolute URLs on the page's origin: a page opened as http://user:password@host/ui has its
  // credentials in its own URL, and fetch refuses relative URLs resolved against it.
  const api = useMemo(() => props.api ?? new DashboardApi(location.origin), [props.api])
  const self = usePolled((signal) => api.id(signal), 10_000)
  const ready = usePolled((signal) => api.ready(signal), 2_000)
  // Raft roles change in an election: asked often so a new leader shows within seconds.
  const raft = usePolled((signal) => api.raftStatus(signal), 1_000)
  const peers = usePolled((signal) => api.peers(signal), 3_000)
  // Every pin's status from every peer: asked less often the longer it takes.
  const pins = usePolled((signal) => api.pins(signal), 2_000, { timeout: 60_000, busyFactor: 4 })
  const graph = usePolled((signal) => api.graph(signal), 5_000)
  const freespace = usePolled((signal) => api.monitorMetrics('freespace', signal), 10_000)
  const numpin = usePolled((signal) => api.monitorMetrics('numpin', signal), 10_000)
  const alerts = usePolled((signal) => api.alerts(signal), 5_000)
  const history = useRef(new MetricsHistory())
  const [charts, setCharts] = useState<{ latency: ChartPoint[]; rate: ChartPoint[] }>({
    latency: [],
    rate: [],
  })
  const metrics = usePolled(async (signal) => {
    const samples = parsePrometheus(await api.metrics(signal))
    history.current.add(readingFromSamples(Date.now(), samples))
    setCharts({
      latency: history.current.commitLatency(),
      rate: history.current.pinsPerSecond(),
    })
    return samples.length
  }, 2_000)
  const [notice, setNotice] = useState<Notice | null>(null)
  const { ask, dialog } = useConfirm()

  // Names outlive the answers they came in: a peer that went down keeps the name it had.
  const knownNames = useRef(new Map<string, string>())
  const names = knownNames.current
  for (const peer of peers.value ?? []) if (peer.peername !== '') names.set(peer.id, peer.peername)
  for (const entry of raft.value ?? [])
    if (entry.peername !== '') names.set(entry.peer, entry.peername)
  const leader = raft.value?.find((entry) => entry.role === 'leader' && entry.error === '')?.peer
  const label = (cid: string) => shortId(cid)

  const run = async (what: string, action: () => Promise<unknown>): Promise<boolean> => {
    try {
      await action()
      setNotice({ kind: 'ok', text: what })
      pins.refresh()
      peers.refresh()
      raft.refresh()
      return true
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message })
      return false
    }
  }

  const onPin = async (request: PinRequest): Promise<boolean> => {
    if (request.cid === '') return false
    const confirmed = await ask({
      title: 'Pin this CID?',
      body: (
        <p>
          Pin <code>{request.cid}</code>
          {request.name === '' ? '' : ` as “${request.name}”`} with replication{' '}
          {request.replicationMin} to {request.replicationMax}.
        </p>
      ),
      confirmLabel: 'Pin',
    })
    if (!confirmed) return false
    return run(`Pinned ${label(request.cid)}`, () => api.addPin(request.cid, request))
  }

  const onUnpin = async (cid: string) => {
    const confirmed = await ask({
      title: 'Unpin this CID?',
      body: (
        <p>
          Every peer will unpin <code>{cid}</code>. Its blocks go at the next garbage collection.
        </p>
      ),
      confirmLabel: 'Unpin',
      destructive: true,
    })
    if (confirmed) await run(`Unpinned ${label(cid)}`, () => api.removePin(cid))
  }

  const onRecover = async (cid: string) => {
    const confirmed = await ask({
      title: 'Recover this pin?',
      body: (
        <p>
          Every peer where <code>{cid}</code> failed retries it now.
        </p>
      ),
      confirmLabel: 'Recover',
    })
    if (confirmed) await run(`Recovery of ${label(cid)} started`, () => api.recover(cid))
  }

  const onRemove = async (peer: string, name: string) => {
    const confirmed = await ask({
      title: `Remove ${name} from the cluster?`,
      body: (
        <p>
          <code>{peer}</code> leaves the peerset: it stops and cleans its Raft state. It can join
          again only with <code>pinraft daemon --bootstrap</code>.
        </p>
      ),
      confirmLabel: 'Remove peer',
      destructive: true,
    })
    if (confirmed) await run(`Removed ${name}`, () => api.removePeer(peer))
  }

  const onUpload = async (
    file: File,
    options: { name: string; pin: boolean },
    onProgress: Parameters<DashboardApi['add']>[2],
  ): Promise<string | null> => {
    try {
      const lines = await api.add(file, options, onProgress)
      const root = lines.at(-1)?.cid ?? null
      setNotice({
        kind: 'ok',
        text: `Added ${file.name}${root === null ? '' : ` as ${label(root)}`}${options.pin ? ' and pinned it' : ''}`,
      })
      pins.refresh()
      return root
    } catch (error) {
      setNotice({ kind: 'error', text: (error as Error).message })
      return null
    }
  }

  // The peer that serves the page may itself stop answering: say so rather than show old data.
  const unreachable = ready.error !== null && !ready.unavailable
  const readiness = unreachable
    ? 'not answering'
    : ready.value === undefined
      ? 'checking'
      : ready.value === null
        ? 'ready'
        : 'not ready'
  return (
    <>
      <header>
        <div class="title">
          <h1>pinraft</h1>
          <span class="self">
            {self.value?.peername ?? '…'}{' '}
            <code title={self.value?.id}>
              {self.value === undefined ? '' : shortId(self.value.id)}
            </code>
          </span>
          <span class={`badge ${readiness.replaceAll(' ', '-')}`} title={ready.value ?? ''}>
            {readiness}
          </span>
        </div>
        <nav aria-label="Sections">
          <a href="#cluster">Cluster</a>
          <a href="#graph">Picture</a>
          <a href="#metrics">Metrics</a>
          <a href="#pins">Pins</a>
          <a href="#actions">Actions</a>
        </nav>
      </header>
      <p class={`notice ${notice?.kind ?? ''}`} role="status" aria-live="polite">
        {notice?.text ?? ''}
      </p>
      {unreachable ? (
        <p class="note warn">
          This peer does not answer ({ready.error?.message}): what is shown may be out of date.
        </p>
      ) : ready.value !== undefined && ready.value !== null ? (
        <p class="note warn">{ready.value}</p>
      ) : null}
      <main>
        <PeersPanel
          self={self.value?.id}
          raft={raft}
          peers={peers}
          names={names}
          onRemove={onRemove}
        />
        <GraphPanel
          self={self.value?.id}
          leader={leader}
          graph={graph}
          peers={peers}
          names={names}
        />
        <MetricsPanel
          metricsError={metrics.error}
          commitLatency={charts.latency}
          pinsPerSecond={charts.rate}
          freespace={freespace}
          numpin={numpin}
          alerts={alerts}
          names={names}
        />
        <PinsPanel api={api} pins={pins} onRecover={onRecover} onUnpin={onUnpin} />
        <ActionsPanel onPin={onPin} onUpload={onUpload} />
      </main>
      <footer>
        Updated {raft.updatedAt === null ? '…' : new Date(raft.updatedAt).toLocaleTimeString()} ·
        served by this peer at /ui, from its own API
      </footer>
      {dialog}
    </>
  )
}
