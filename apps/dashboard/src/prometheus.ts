/** One sample of Prometheus's text format: `name{label="value",…} value [timestamp]`. */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** A sample line that does not follow the text format: says which line and what is wrong. */
export class PrometheusParseError extends Error {
  static readonly code = 'PrometheusParseError'
  override readonly name = 'PrometheusParseError'
}

function parseValue(text: string, line: number): number {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY
    case '-Inf':
      return Number.NEGATIVE_INFINITY
    case 'NaN':
      return Number.NaN
  }
  const value = Number(text)
  if (text === '' || Number.isNaN(value))
    throw new PrometheusParseError(`line ${line}: ${JSON.stringify(text)} is not a sample value`)
  return value
}

/** Reads `{a="x",b="y\"z"}` from `text` at `start` (the `{`); returns the labels and the end. */
function parseLabels(
  text: string,
  start: number,
  line: number,
): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {}
  let index = start + 1
  const fail = (what: string) =>
    new PrometheusParseError(`line ${line}: ${what} in the labels of ${JSON.stringify(text)}`)
  for (;;) {
    while (text[index] === ' ' || text[index] === ',') index += 1
    if (text[index] === '}') return { labels, end: index + 1 }
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(index))
    if (nameMatch === null) throw fail('a label name is missing')
    const name = nameMatch[0]
    index += name.length
    if (text[index] !== '=' || text[index + 1] !== '"') throw fail(`label ${name} has no ="value"`)
    index += 2
    let value = ''
    for (;;) {
      const character = text[index]
      if (character === undefined) throw fail(`label ${name}'s value is not closed`)
      index += 1
      if (character === '"') break
      if (character === '\\') {
        const escaped = text[index]
        index += 1
        value += escaped === 'n' ? '\n' : (escaped ?? '')
      } else {
        value += character
      }
    }
    labels[name] = value
  }
}

/**
 * Parses Prometheus's text exposition format (what `GET /metrics` answers, from prom-client):
 * `# HELP` / `# TYPE` and other comments are skipped, label values unescaped, `+Inf`/`NaN` read.
 */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = []
  const lines = text.split('\n')
  for (const [position, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)
    if (nameMatch === null)
      throw new PrometheusParseError(
        `line ${position + 1}: no metric name in ${JSON.stringify(line)}`,
      )
    const name = nameMatch[0]
    let index = name.length
    let labels: Record<string, string> = {}
    if (line[index] === '{') {
      const parsed = parseLabels(line, index, position + 1)
      labels = parsed.labels
      index = parsed.end
    }
    const [valueText = ''] = line.slice(index).trim().split(/\s+/)
    samples.push({ name, labels, value: parseValue(valueText, position + 1) })
  }
  return samples
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none). */
export function sumSamples(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  let total = 0
  for (const sample of samples) {
    if (sample.name !== name) continue
    if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
      total += sample.value
  }
  return total
}

/** Whether any sample is named `name` (a peer without a metric differs from one at 0). */
export function hasSample(samples: readonly Sample[], name: string): boolean {
  return samples.some((sample) => sample.name === name)
}
