import type { Command, StateMachine } from '../../src/index.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function put(key: string, value: string): Uint8Array {
  return encoder.encode(JSON.stringify([key, value]))
}

/** A key-value state machine; each apply returns the index it was applied at. */
export class KeyValueStateMachine implements StateMachine<number> {
  readonly values = new Map<string, string>()
  readonly appliedIndexes: number[] = []
  restores = 0
  /** Apply after a turn of the event loop, returning a promise (an asynchronous state machine). */
  readonly asynchronous: boolean
  private applying = false

  constructor(options: { asynchronous?: boolean } = {}) {
    this.asynchronous = options.asynchronous ?? false
  }

  apply(command: Command): number | Promise<number> {
    if (!this.asynchronous) return this.applyNow(command)
    // The node must wait for one apply before the next: overlapping applies are a bug.
    if (this.applying) throw new Error(`entry ${command.index} applied while another was applying`)
    this.applying = true
    return Promise.resolve().then(() => {
      this.applying = false
      return this.applyNow(command)
    })
  }

  private applyNow(command: Command): number {
    const [key, value] = JSON.parse(decoder.decode(command.data)) as [string, string]
    this.values.set(key, value)
    this.appliedIndexes.push(command.index)
    return command.index
  }

  async *snapshot(): AsyncIterable<Uint8Array> {
    // Two chunks, so streaming is exercised.
    const pairs = [...this.values.entries()]
    const half = Math.floor(pairs.length / 2)
    yield encoder.encode(`${JSON.stringify(pairs.slice(0, half))}\n`)
    yield encoder.encode(JSON.stringify(pairs.slice(half)))
  }

  async restore(data: AsyncIterable<Uint8Array>): Promise<void> {
    let text = ''
    for await (const chunk of data) text += decoder.decode(chunk)
    const [first, second] = text.split('\n')
    this.values.clear()
    for (const [key, value] of [
      ...JSON.parse(first ?? '[]'),
      ...JSON.parse(second ?? '[]'),
    ] as Array<[string, string]>) {
      this.values.set(key, value)
    }
    this.restores++
  }
}
