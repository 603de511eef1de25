import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiClient } from '../src/api-client.ts'
import { checkFinalState } from '../src/final-state.ts'
import { callLabel, HistoryRecorder } from '../src/history.ts'
import { checkLinearizability } from '../src/linearizability.ts'
import { seededRandom } from '../src/random.ts'
import { runWorkload, type WorkloadInit } from '../src/workload.ts'
import { type RegisterServer, startRegisterServer } from './support/register-server.ts'

let server: RegisterServer | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
})

function workload(
  endpoints: WorkloadInit['endpoints'],
  overrides: Partial<WorkloadInit> = {},
): WorkloadInit {
  return {
    endpoints,
    client: new ApiClient({ callTimeout: 2_000 }),
    recorder: new HistoryRecorder(),
    random: seededRandom(7),
    seed: 7,
    clients: 4,
    maxOperations: 120,
    duration: 30_000,
    operationsPerCid: 20,
    ...overrides,
  }
}

describe('runWorkload', () => {
  it('records every call against a correct cluster, which both checkers accept', async () => {
    server = await startRegisterServer(3)
    const init = workload(server.endpoints)
    const summary = await runWorkload(init)
    const history = init.recorder.operations()
    expect(summary.operations).toBe(120)
    expect(summary.cids).toHaveLength(6)
    expect(history).toHaveLength(120)
    expect(history.every((operation) => operation.outcome === 'ok')).toBe(true)
    expect(new Set(history.map((operation) => operation.node))).toEqual(
      new Set(['peer-0', 'peer-1', 'peer-2']),
    )
    expect(new Set(history.map(callLabel))).toEqual(
      new Set(['pin', 'unpin', 'local read', 'consistent read']),
    )
    expect(checkLinearizability(history, { localReads: 'linearizable' }).verdict).toBe(
      'linearizable',
    )
    expect(checkFinalState(history, server.pinsets()).verdict).toBe('ok')
  })

  it('accepts lagging local reads, with consistent reads from the leader', async () => {
    server = await startRegisterServer(3, 'lagging')
    const init = workload(server.endpoints, { clients: 1, maxOperations: 200, pinsetReads: 0.3 })
    await runWorkload(init)
    const history = init.recorder.operations()
    // Local reads lag: judged as if linearizable they fail, per peer they never go back.
    expect(checkLinearizability(history, { localReads: 'linearizable' }).verdict).toBe('violation')
    expect(checkLinearizability(history, { localReads: 'monotonic' }).verdict).toBe('linearizable')
    expect(checkLinearizability(history, { localReads: 'ignored' }).verdict).toBe('linearizable')
    server.sync()
    expect(checkFinalState(history, server.pinsets()).verdict).toBe('ok')
  })

  it('fails the headline verdict when consistent reads are served from a lagging replica', async () => {
    server = await startRegisterServer(3, 'ignores-consistent')
    const init = workload(server.endpoints, { clients: 1, maxOperations: 200 })
    await runWorkload(init)
    expect(
      checkLinearizability(init.recorder.operations(), { localReads: 'ignored' }).verdict,
    ).toBe('violation')
  })

  it('catches a replica whose local reads go back in time', async () => {
    server = await startRegisterServer(3, 'rollback')
    const init = workload(server.endpoints, { clients: 1, maxOperations: 400 })
    await runWorkload(init)
    const history = init.recorder.operations()
    expect(checkLinearizability(history, { localReads: 'ignored' }).verdict).toBe('linearizable')
    expect(checkLinearizability(history, { localReads: 'monotonic' }).verdict).toBe('violation')
  })

  it('catches acknowledged pins that were never stored', async () => {
    server = await startRegisterServer(3, 'forgetful')
    const init = workload(server.endpoints, { clients: 1, maxOperations: 60 })
    await runWorkload(init)
    const history = init.recorder.operations()
    expect(
      checkFinalState(history, server.pinsets()).violations.map((violation) => violation.kind),
    ).toContain('lost-pin')
    // Local reads that may lag cannot tell a lost pin from a slow one: only the final state and
    // consistent reads can.
    expect(checkLinearizability(history, { localReads: 'ignored' }).verdict).toBe('violation')
    const localOnly = history.filter((operation) => operation.consistency !== 'consistent')
    expect(checkLinearizability(localOnly, { localReads: 'monotonic' }).verdict).toBe(
      'linearizable',
    )
  })

  it('records an unanswered pin as unknown', async () => {
    server = await startRegisterServer(1, 'hang')
    const init = workload(server.endpoints, {
      client: new ApiClient({ callTimeout: 50 }),
      clients: 1,
      maxOperations: 3,
      mix: { pin: 1, unpin: 0, 'local read': 0, 'consistent read': 0 },
    })
    await runWorkload(init)
    const history = init.recorder.operations()
    expect(history.map((operation) => operation.outcome)).toEqual(['unknown', 'unknown', 'unknown'])
    expect(history[0]!.detail).toMatch(/TimeoutError/)
  })

  it('records a pin to a peer that refuses connections as failed', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as { port: number }).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const init = workload([{ node: 'down', url: `http://127.0.0.1:${port}` }], {
      clients: 1,
      maxOperations: 2,
      mix: { pin: 1, unpin: 0, 'local read': 0, 'consistent read': 0 },
    })
    await runWorkload(init)
    expect(init.recorder.operations().map((operation) => operation.outcome)).toEqual([
      'fail',
      'fail',
    ])
  })

  it('stops when its signal is aborted', async () => {
    server = await startRegisterServer(1)
    const controller = new AbortController()
    controller.abort()
    const init = workload(server.endpoints, { maxOperations: 1_000 })
    const summary = await runWorkload(init, { signal: controller.signal })
    expect(summary.operations).toBe(0)
  })
})
