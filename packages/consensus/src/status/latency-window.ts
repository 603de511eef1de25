/** The most recent commit latencies, for `status()` (a bounded window, oldest dropped first). */
export class LatencyWindow {
  private readonly values: number[] = []
  private readonly size: number

  constructor(size: number) {
    this.size = size
  }

  record(milliseconds: number): void {
    this.values.push(milliseconds)
    if (this.values.length > this.size) this.values.splice(0, this.values.length - this.size)
  }

  /** A copy, oldest first. */
  snapshot(): number[] {
    return [...this.values]
  }
}
