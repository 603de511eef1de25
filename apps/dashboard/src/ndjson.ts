/** A line of an NDJSON body that is not JSON: says which line and why. */
export class NdjsonParseError extends Error {
  static readonly code = 'NdjsonParseError'
  override readonly name = 'NdjsonParseError'
  readonly line: number

  constructor(line: number, cause: unknown) {
    super(`line ${line} of the answer is not JSON: ${(cause as Error).message}`, { cause })
    this.line = line
  }
}

/**
 * Splits IPFS Cluster's streamed lists (one JSON value per line) as their bytes arrive: `push`
 * returns the values whose line is complete, `end` the last one when the body does not end in a
 * newline. Blank lines are skipped.
 */
export class NdjsonDecoder {
  #pending = ''
  #line = 0

  push(text: string): unknown[] {
    this.#pending += text
    const values: unknown[] = []
    let newline = this.#pending.indexOf('\n')
    while (newline !== -1) {
      const line = this.#pending.slice(0, newline)
      this.#pending = this.#pending.slice(newline + 1)
      this.#parse(line, values)
      newline = this.#pending.indexOf('\n')
    }
    return values
  }

  end(): unknown[] {
    const values: unknown[] = []
    const rest = this.#pending
    this.#pending = ''
    this.#parse(rest, values)
    return values
  }

  #parse(line: string, into: unknown[]): void {
    this.#line += 1
    const trimmed = line.trim()
    if (trimmed === '') return
    try {
      into.push(JSON.parse(trimmed))
    } catch (error) {
      throw new NdjsonParseError(this.#line, error)
    }
  }
}

/** Every value of a whole NDJSON body. */
export function parseNdjson(text: string): unknown[] {
  const decoder = new NdjsonDecoder()
  return [...decoder.push(text), ...decoder.end()]
}

/**
 * Reads an NDJSON response as it streams, at most `limit` values (the rest of the body is
 * cancelled, so a large pinset never fills the page's memory).
 */
export async function readNdjson(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<{ values: unknown[]; truncated: boolean }> {
  const values: unknown[] = []
  if (body === null) return { values, truncated: false }
  const reader = body.getReader()
  const text = new TextDecoder()
  const decoder = new NdjsonDecoder()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      values.push(...decoder.push(text.decode(value, { stream: true })))
      if (values.length >= limit) {
        await reader.cancel()
        return { values: values.slice(0, limit), truncated: true }
      }
    }
    values.push(...decoder.push(text.decode()), ...decoder.end())
  } finally {
    reader.releaseLock()
  }
  return { values: values.slice(0, limit), truncated: values.length > limit }
}
