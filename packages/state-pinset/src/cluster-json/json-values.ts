import { DecodeFailure } from '../encoding/bytes.ts'

/** One top-level JSON value of a stream and the line it starts on (1-based). */
export interface JsonValueText {
  readonly text: string
  readonly line: number
  /** The value, when it was already parsed (a value alone on its line). */
  readonly parsed?: unknown
}

/** A problem at a line of the input. */
export class JsonStreamFailure extends DecodeFailure {
  readonly line: number
  constructor(line: number, message: string) {
    super(message)
    this.line = line
  }
}

/**
 * Splits a stream of text or UTF-8 chunks into its top-level JSON values, as Go's json.Decoder
 * reads `state export` files: usually one object per line, but pretty-printed objects spanning
 * lines are read too. Only finds the boundaries; `JSON.parse` checks each value.
 */
export async function* jsonValues(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<JsonValueText> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let line = 1
  let depth = 0
  let inString = false
  let escaped = false
  let current = ''
  let startLine = 0
  for await (const chunk of source) {
    let text: string
    if (typeof chunk === 'string') text = chunk
    else {
      try {
        text = decoder.decode(chunk, { stream: true })
      } catch {
        throw new JsonStreamFailure(line, 'the input is not valid UTF-8')
      }
    }
    let valueStart = depth > 0 ? 0 : -1
    for (let i = 0; i < text.length; i++) {
      const character = text.charCodeAt(i)
      if (inString) {
        if (escaped) escaped = false
        else if (character === 0x5c) escaped = true
        else if (character === 0x22) inString = false
        else if (character === 0x0a)
          throw new JsonStreamFailure(line, 'a string runs past the end of its line')
        continue
      }
      if (character === 0x0a) {
        line++
        continue
      }
      if (depth === 0) {
        if (
          character === 0x20 ||
          character === 0x09 ||
          character === 0x0d ||
          (character === 0xfeff && line === 1)
        )
          continue
        if (character !== 0x7b)
          throw new JsonStreamFailure(line, 'expected a JSON object (one pin) here')
        // The usual file, one object a line: JSON.parse finds the end far faster than this
        // loop. A line it does not parse whole (two values, a pretty-printed object, an error)
        // is scanned as before, so boundaries and errors stay the same.
        const end = text.indexOf('\n', i)
        if (end !== -1) {
          const candidate = text.slice(i, end)
          let parsed: unknown
          try {
            parsed = JSON.parse(candidate)
          } catch {
            parsed = undefined
          }
          if (parsed !== undefined) {
            yield { text: candidate, line, parsed }
            line++
            i = end
            continue
          }
        }
        valueStart = i
        startLine = line
        depth = 1
        continue
      }
      if (character === 0x22) inString = true
      else if (character === 0x7b || character === 0x5b) depth++
      else if (character === 0x7d || character === 0x5d) {
        depth--
        if (depth === 0) {
          yield { text: current + text.slice(valueStart, i + 1), line: startLine }
          current = ''
          valueStart = -1
        }
      }
    }
    if (depth > 0) current += text.slice(valueStart === -1 ? 0 : valueStart)
  }
  try {
    decoder.decode()
  } catch {
    throw new JsonStreamFailure(line, 'the input ends inside a UTF-8 character')
  }
  if (depth > 0)
    throw new JsonStreamFailure(
      startLine,
      'the input ends before this JSON object does (truncated)',
    )
}
