/**
 * Binary strings (char codes 0–255) in byte order, as `strings.slice().sort()` orders them (equal
 * strings keep their order), for the million records a bulk load sorts. The default sort
 * compares strings in a callback-free loop, but a pinset's keys share their first bytes (a CID's
 * version, codec and hash), so every comparison walks past them first, and a million strings
 * take some 20 million comparisons.
 *
 * Here each string's first 4 bytes after the prefix all strings share become a number, packed
 * with the string's position into one float64 (at most 53 bits), and a Float64Array is sorted
 * natively. Strings whose 4 bytes are equal then sit together, in their original order; each such
 * run is sorted again by the whole string. Missing bytes count as 0, so a shorter string never
 * gets a larger number than one it is a prefix of; any tie is settled by the second sort.
 */
export function sortBinaryStrings(strings: readonly string[]): string[] {
  const count = strings.length
  // Below this, the default sort is as fast; above 2^26 the position leaves too few key bits.
  if (count < 4096 || count > 2 ** 26) return strings.slice().sort()
  const positionBits = Math.ceil(Math.log2(count))
  const positionScale = 2 ** positionBits
  const keyBits = Math.min(32, 53 - positionBits)
  const keyScale = 2 ** (32 - keyBits)
  const start = sharedPrefixLength(strings)
  const packed = new Float64Array(count)
  for (let position = 0; position < count; position++) {
    const text = strings[position]!
    let window = 0
    for (let at = start; at < start + 4; at++) {
      window = window * 256 + (at < text.length ? text.charCodeAt(at) : 0)
    }
    packed[position] = Math.floor(window / keyScale) * positionScale + position
  }
  packed.sort()
  const sorted = new Array<string>(count)
  let runStart = 0
  let runKey = -1
  for (let index = 0; index < count; index++) {
    const value = packed[index]!
    const key = Math.floor(value / positionScale)
    sorted[index] = strings[value - key * positionScale]!
    if (key !== runKey) {
      if (index - runStart > 1) sortRun(sorted, runStart, index)
      runStart = index
      runKey = key
    }
  }
  if (count - runStart > 1) sortRun(sorted, runStart, count)
  return sorted
}

/** How many leading chars every string shares. */
function sharedPrefixLength(strings: readonly string[]): number {
  const first = strings[0]!
  let length = first.length
  for (let index = 1; index < strings.length && length > 0; index++) {
    const text = strings[index]!
    let at = 0
    const limit = Math.min(length, text.length)
    while (at < limit && text.charCodeAt(at) === first.charCodeAt(at)) at++
    length = at
  }
  return length
}

/** Sorts `sorted[start, end)` in place by the whole string (a stable sort). */
function sortRun(sorted: string[], start: number, end: number): void {
  const run = sorted.slice(start, end).sort()
  for (let index = 0; index < run.length; index++) sorted[start + index] = run[index]!
}
