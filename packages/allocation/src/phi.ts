/**
 * The phi accrual failure detector 1.x's checker uses for `failure_threshold`: how unlikely it
 * is, given the gaps seen between a peer's pings, that the next one is still coming after
 * `elapsed` ms. phi = -log10(1 - CDF(elapsed)), CDF of a normal with the gaps' mean and spread.
 */
export function phi(elapsed: number, gaps: readonly number[]): number {
  if (gaps.length === 0) return Number.POSITIVE_INFINITY
  const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length
  const variance = gaps.reduce((sum, gap) => sum + (gap - mean) ** 2, 0) / gaps.length
  // Perfectly regular pings would make any delay infinitely suspicious: keep some spread.
  const deviation = Math.max(Math.sqrt(variance), mean / 10, 1)
  const z = (elapsed - mean) / (deviation * Math.SQRT2)
  const cdf = 0.5 * (1 + erf(z))
  const tail = 1 - cdf
  return tail <= 0 ? Number.POSITIVE_INFINITY : -Math.log10(tail)
}

/** Abramowitz and Stegun 7.1.26 (error below 1.5e-7), enough for a threshold test. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x)
  return sign * y
}
