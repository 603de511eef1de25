/**
 * Lets one log line through per key and interval, and counts the ones it held back, so that a
 * flapping peer or a storm of refused requests cannot flood the log.
 */
export class RateLimiter {
  private readonly interval: number
  private readonly now: () => number
  private readonly last = new Map<string, { at: number; suppressed: number }>()

  constructor(interval: number, now: () => number = Date.now) {
    this.interval = interval
    this.now = now
  }

  /**
   * Returns how many lines for `key` were held back since the last one let through (0 or
   * more) when this one may be logged, or null when it must be held back.
   */
  allow(key: string): number | null {
    const now = this.now()
    const previous = this.last.get(key)
    if (previous !== undefined && now - previous.at < this.interval) {
      previous.suppressed++
      return null
    }
    this.last.set(key, { at: now, suppressed: 0 })
    if (this.last.size > 1024) {
      // Keys are peer IDs: keep the map bounded against many distinct peers.
      const oldest = this.last.keys().next().value
      if (oldest !== undefined) this.last.delete(oldest)
    }
    return previous?.suppressed ?? 0
  }
}
