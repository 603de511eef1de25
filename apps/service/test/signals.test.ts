import { once } from 'node:events'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { handleShutdownSignals } from '../src/daemon/signals.ts'

const silent = pino({ level: 'silent' })
let remove: (() => void) | undefined

afterEach(() => {
  remove?.()
  remove = undefined
})

/** Sends `signal` to this process and waits until its handlers ran. */
async function send(signal: NodeJS.Signals): Promise<void> {
  const delivered = once(process, signal)
  process.kill(process.pid, signal)
  await delivered
}

describe('shutdown signals', () => {
  it('counts signals arriving together (a wrapper forwarding Ctrl-C) as one stop', async () => {
    let clock = 0
    let stops = 0
    const exits: number[] = []
    remove = handleShutdownSignals(
      async () => {
        stops++
      },
      silent,
      { now: () => clock, exit: (code) => exits.push(code), coalesceMilliseconds: 1000 },
    )
    await send('SIGINT')
    clock = 5
    await send('SIGINT')
    clock = 999
    await send('SIGTERM')
    expect(stops).toBe(1)
    expect(exits).toEqual([])
  })

  it('forces the exit on a signal sent after the first was acknowledged', async () => {
    let clock = 0
    let stops = 0
    const exits: number[] = []
    remove = handleShutdownSignals(
      async () => {
        stops++
      },
      silent,
      { now: () => clock, exit: (code) => exits.push(code), coalesceMilliseconds: 1000 },
    )
    await send('SIGINT')
    clock = 1500
    await send('SIGINT')
    expect(stops).toBe(1)
    expect(exits).toEqual([1])
  })
})
