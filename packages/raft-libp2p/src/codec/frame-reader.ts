import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { TimeoutError } from '../errors.ts'
import { FrameDecoder } from './framing.ts'

export interface FrameReaderOptions {
  maxFrameSize: number
  /** Decoded bytes held before the stream is paused (the muxer then stops the sender). */
  highWaterMark: number
}

export interface ReadFrameOptions {
  /** Longest wait for the next frame (ms). */
  timeout: number
  signal?: AbortSignal
}

/**
 * Pulls frames from a stream one at a time, for exchanges where the reader sets the pace (a
 * snapshot written to disk, an answer awaited). Past `highWaterMark` it pauses the stream, so a
 * fast sender is held back by the muxer's flow control instead of filling memory.
 */
export class FrameReader {
  readonly #stream: Stream
  readonly #decoder: FrameDecoder
  readonly #highWaterMark: number
  readonly #frames: Uint8Array[] = []
  #bufferedBytes = 0
  #ended = false
  #error: Error | undefined
  #wake: (() => void) | undefined

  constructor(stream: Stream, options: FrameReaderOptions) {
    this.#stream = stream
    this.#decoder = new FrameDecoder(options.maxFrameSize)
    this.#highWaterMark = options.highWaterMark
    // While paused, the muxer buffers what the sender already had in flight (up to its window).
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, 4 * options.highWaterMark)
    stream.addEventListener('message', this.#onMessage)
    stream.addEventListener('end', this.#onEnd)
    stream.addEventListener('close', this.#onClose)
    this.#ended = stream.readableEnded
  }

  #onMessage = (event: StreamMessageEvent): void => {
    try {
      for (const frame of this.#decoder.push(event.data)) {
        this.#frames.push(frame)
        this.#bufferedBytes += frame.byteLength
      }
    } catch (err) {
      this.#fail(err as Error)
      this.#stream.abort(err as Error)
      return
    }
    if (this.#bufferedBytes > this.#highWaterMark && this.#stream.readStatus === 'readable') {
      this.#stream.pause()
    }
    this.#notify()
  }

  #onEnd = (): void => {
    this.#ended = true
    this.#notify()
  }

  #onClose = (event: StreamCloseEvent): void => {
    if (event.error !== undefined) {
      this.#fail(event.error)
    }
    this.#ended = true
    this.#notify()
  }

  #fail(error: Error): void {
    this.#error ??= error
    this.#notify()
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /** Frames decoded and not yet read. */
  get pendingFrames(): number {
    return this.#frames.length
  }

  /** The next frame's payload, or undefined once the sender closed its end. */
  async next(options: ReadFrameOptions): Promise<Uint8Array | undefined> {
    while (this.#frames.length === 0) {
      if (this.#error !== undefined) {
        throw this.#error
      }
      if (this.#ended) {
        return undefined
      }
      await this.#waitForData(options)
    }
    const frame = this.#frames.shift() as Uint8Array
    this.#bufferedBytes -= frame.byteLength
    if (this.#stream.readStatus === 'paused' && this.#bufferedBytes <= this.#highWaterMark / 2) {
      this.#stream.resume()
    }
    return frame
  }

  #waitForData(options: ReadFrameOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        this.#wake = undefined
        if (error === undefined) {
          resolve()
        } else {
          reject(error)
        }
      }
      const onAbort = () => finish(options.signal?.reason as Error)
      const timer = setTimeout(
        () =>
          finish(
            new TimeoutError(
              `no data from the peer for ${options.timeout} ms; it stalled or went away (raise snapshotTimeout if transfers are slow)`,
            ),
          ),
        options.timeout,
      )
      if (options.signal?.aborted === true) {
        onAbort()
        return
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      this.#wake = () => finish()
    })
  }

  /** Stops listening to the stream. */
  release(): void {
    this.#stream.removeEventListener('message', this.#onMessage)
    this.#stream.removeEventListener('end', this.#onEnd)
    this.#stream.removeEventListener('close', this.#onClose)
  }
}
