import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FinalStateResult } from './final-state.ts'
import type { CompletedOperation } from './history.ts'
import { callLabel, countOutcomes } from './history.ts'
import type { CidVerdict, LinearizabilityResult, LocalReads } from './linearizability.ts'
import type { ProbeResult } from './probes.ts'

/** One fault the nemesis injected; times in nanoseconds on the history's clock. */
export interface FaultRecord {
  readonly kind: string
  readonly targets: readonly string[]
  readonly startedAt: number
  healedAt?: number
  detail?: string
  /** The fault did not do what it should (a membership DELETE refused or without effect): the run fails. */
  failure?: string
}

export interface RecoveryResult {
  readonly verdict: 'ok' | 'timeout'
  /** Seconds from the last heal to a leader and all peers converged. */
  readonly seconds: number
  readonly detail: string
}

export interface LinearizabilitySummary {
  /** How local reads were judged (writes and consistent reads are always linearizable). */
  readonly localReads: LocalReads
  readonly verdict: LinearizabilityResult['verdict']
  readonly cids: {
    readonly linearizable: number
    readonly violation: number
    readonly unknown: number
  }
  /** Violating or undecided CIDs with their history slice. */
  readonly findings: readonly CidVerdict[]
}

export interface RunReport {
  readonly profile: string
  readonly seed: number
  readonly startedAt: string
  readonly seconds: number
  readonly peers: readonly string[]
  readonly faults: readonly FaultRecord[]
  readonly operations: {
    readonly total: number
    readonly byKind: ReturnType<typeof countOutcomes>
    /** Why calls failed or got no answer: the status or error, with counts. */
    readonly reasons: Readonly<Record<string, number>>
  }
  /** The headline verdict: writes and consistent reads linearizable (see docs/reliability.md). */
  readonly linearizability: LinearizabilitySummary
  /** Local reads: per peer never back in time, in the one order of writes. The run fails on it too. */
  readonly localReads: LinearizabilitySummary
  /** Informational: local reads judged as if they had to be linearizable (they may lag). */
  readonly localReadsStrict: LinearizabilitySummary
  readonly finalState: FinalStateResult
  readonly recovery: RecoveryResult
  /** Bad requests and calls without credentials sent to the live peers. */
  readonly probes: readonly ProbeResult[]
  readonly passed: boolean
  /** Set when the run could not start (not root, no `ip netns`, no daemon): why, and what to do. */
  readonly skipped?: string
  /** Anything that went wrong in the harness itself (setup, a fault command). */
  readonly errors: readonly string[]
}

export function summarizeLinearizability(
  result: LinearizabilityResult,
  localReads: LocalReads,
): LinearizabilitySummary {
  const cids = { linearizable: 0, violation: 0, unknown: 0 }
  for (const entry of result.cids) cids[entry.verdict] += 1
  return {
    localReads,
    verdict: result.verdict,
    cids,
    findings: result.cids.filter((entry) => entry.verdict !== 'linearizable'),
  }
}

export function buildReport(parts: {
  profile: string
  seed: number
  startedAt: Date
  seconds: number
  peers: readonly string[]
  faults: readonly FaultRecord[]
  history: readonly CompletedOperation[]
  /** Writes and consistent reads (`localReads: 'ignored'`). */
  linearizability: LinearizabilityResult
  /** The same with local reads judged `monotonic`. */
  localReads: LinearizabilityResult
  /** The same with local reads judged `linearizable` (informational). */
  localReadsStrict: LinearizabilityResult
  finalState: FinalStateResult
  recovery: RecoveryResult
  probes?: readonly ProbeResult[]
  errors?: readonly string[]
}): RunReport {
  const probes = parts.probes ?? []
  const linearizability = summarizeLinearizability(parts.linearizability, 'ignored')
  const localReads = summarizeLinearizability(parts.localReads, 'monotonic')
  const errors = parts.errors ?? []
  return {
    profile: parts.profile,
    seed: parts.seed,
    startedAt: parts.startedAt.toISOString(),
    seconds: parts.seconds,
    peers: parts.peers,
    faults: parts.faults,
    operations: {
      total: parts.history.length,
      byKind: countOutcomes(parts.history),
      reasons: reasonsOf(parts.history),
    },
    linearizability,
    localReads,
    localReadsStrict: summarizeLinearizability(parts.localReadsStrict, 'linearizable'),
    finalState: parts.finalState,
    recovery: parts.recovery,
    probes,
    passed:
      probes.every((probe) => probe.passed) &&
      linearizability.verdict === 'linearizable' &&
      localReads.verdict === 'linearizable' &&
      parts.finalState.verdict === 'ok' &&
      parts.recovery.verdict === 'ok' &&
      parts.faults.every((fault) => fault.failure === undefined) &&
      errors.length === 0,
    errors,
  }
}

/** `fail pin: HTTP 503`, `unknown unpin: TimeoutError` ...: the first words of each call's detail, counted. */
function reasonsOf(history: readonly CompletedOperation[]): Record<string, number> {
  const reasons: Record<string, number> = {}
  for (const operation of history) {
    if (operation.outcome === 'ok') continue
    const detail = operation.detail ?? ''
    const code = /\(([A-Z_]+)\)$/.exec(detail)?.[1]
    const label = `${operation.outcome} ${operation.kind}: ${code ?? (detail.split(/[ :]/).slice(0, 2).join(' ') || 'no detail')}`
    reasons[label] = (reasons[label] ?? 0) + 1
  }
  return reasons
}

const verdictLabels: Readonly<Record<LocalReads, string>> = {
  ignored: 'Writes and consistent reads linearizable (the headline verdict)',
  monotonic: 'Local reads never go back in time on a peer, in the one order of writes',
  stale: 'Local reads each fit an earlier instant',
  linearizable: 'Local reads as if they had to be linearizable (informational: they may lag)',
}

function seconds(nanoseconds: number): string {
  return (nanoseconds / 1e9).toFixed(1)
}

/** The report as Markdown, for people: what was done, what came out, and why it failed. */
export function renderMarkdown(report: RunReport): string {
  const lines: string[] = []
  lines.push(
    `# pinraft reliability run: ${report.skipped !== undefined ? 'SKIPPED' : report.passed ? 'PASSED' : 'FAILED'}`,
    '',
  )
  lines.push(
    `- profile \`${report.profile}\`, seed ${report.seed}, started ${report.startedAt}, ${report.seconds.toFixed(0)} s`,
  )
  lines.push(`- peers: ${report.peers.join(', ') || '(none)'}`)
  if (report.skipped !== undefined) lines.push('', `Skipped: ${report.skipped}`)
  lines.push('', `## Faults (${report.faults.length})`, '')
  if (report.faults.length > 0) {
    lines.push('| kind | targets | at (s) | healed (s) | detail |', '|---|---|---|---|---|')
    for (const fault of report.faults) {
      lines.push(
        `| ${fault.kind} | ${fault.targets.join(' ')} | ${seconds(fault.startedAt)} | ${fault.healedAt === undefined ? '' : seconds(fault.healedAt)} | ${fault.detail ?? ''}${fault.failure === undefined ? '' : ` **FAILED: ${fault.failure}**`} |`,
      )
    }
  }
  lines.push(
    '',
    `## Operations (${report.operations.total})`,
    '',
    '| kind | ok | fail | unknown |',
    '|---|---|---|---|',
  )
  for (const kind of ['pin', 'unpin', 'local read', 'consistent read'] as const) {
    const counts = report.operations.byKind[kind]
    lines.push(`| ${kind} | ${counts.ok} | ${counts.fail} | ${counts.unknown} |`)
  }
  const reasons = Object.entries(report.operations.reasons).sort((a, b) => b[1] - a[1])
  if (reasons.length > 0)
    lines.push(
      '',
      'Calls that failed or got no answer, by reason:',
      '',
      ...reasons.map(([reason, count]) => `- ${reason}: ${count}`),
    )
  lines.push('', '## Verdicts', '')
  for (const summary of [report.linearizability, report.localReads, report.localReadsStrict]) {
    const label = verdictLabels[summary.localReads]
    lines.push(
      `- ${label}: **${summary.verdict}** (${summary.cids.linearizable} CIDs linearizable, ${summary.cids.violation} violations, ${summary.cids.unknown} undecided)`,
    )
  }
  lines.push(
    report.finalState.verdict === 'not-checked'
      ? '- Final state: **not checked** (the peers did not converge: see Recovery)'
      : `- Final state: **${report.finalState.verdict}** (${report.finalState.cidsChecked} CIDs, ${report.finalState.acknowledgedPinsChecked} acknowledged pins present on every peer, ${report.finalState.violations.length} violations)`,
  )
  lines.push(
    `- Recovery: **${report.recovery.verdict}** in ${report.recovery.seconds.toFixed(1)} s (${report.recovery.detail})`,
  )
  const refused = report.probes.filter((probe) => probe.passed).length
  lines.push(
    `- Bad input and authentication probes: **${refused}/${report.probes.length}** refused cleanly with the peer still serving`,
  )
  for (const probe of report.probes.filter((entry) => !entry.passed)) {
    lines.push(`  - FAILED ${probe.name} on ${probe.node}: HTTP ${probe.status} ${probe.detail}`)
  }
  if (report.errors.length > 0)
    lines.push('', '## Harness errors', '', ...report.errors.map((error) => `- ${error}`))
  for (const violation of report.finalState.violations)
    lines.push(`- final state: ${JSON.stringify(violation)}`)
  const findings = [
    ...report.linearizability.findings.map((finding) => ({
      finding,
      check: 'writes and consistent reads',
    })),
    ...report.localReads.findings.map((finding) => ({ finding, check: 'local reads' })),
  ]
  for (const { finding, check } of findings) {
    lines.push('', `### CID ${finding.cid}: ${finding.verdict} (${check})`, '')
    if (finding.verdict === 'unknown') lines.push(finding.reason)
    if (finding.verdict === 'violation') {
      lines.push(
        `Longest valid order: ${finding.linearizedPrefix.join(', ') || '(empty)'}; blocked at operation ${finding.blockedAt}.`,
        '',
      )
      lines.push(
        '| id | process | node | kind | invoked (s) | completed (s) | outcome | value | detail |',
        '|---|---|---|---|---|---|---|---|---|',
      )
      for (const operation of finding.history) {
        lines.push(
          `| ${operation.id} | ${operation.process} | ${operation.node} | ${callLabel(operation)} | ${seconds(operation.invokedAt)} | ${seconds(operation.completedAt)} | ${operation.outcome} | ${operation.value ?? ''} | ${operation.detail ?? ''} |`,
        )
      }
    }
  }
  return `${lines.join('\n')}\n`
}

/**
 * Writes `report.json`, `report.md` and the whole history (`history.jsonl`, one call a line, so
 * a run can be checked again) into `folder`; on failure also each daemon's log (`logs/<peer>.log`).
 */
export async function writeReport(
  folder: string,
  report: RunReport,
  evidence: { history: readonly CompletedOperation[]; logs: Readonly<Record<string, string>> },
): Promise<string[]> {
  await mkdir(folder, { recursive: true })
  const written = [join(folder, 'report.json'), join(folder, 'report.md')]
  await writeFile(written[0]!, `${JSON.stringify(report, null, 2)}\n`)
  await writeFile(written[1]!, renderMarkdown(report))
  if (report.skipped !== undefined) return written
  const historyPath = join(folder, 'history.jsonl')
  await writeFile(
    historyPath,
    evidence.history.map((operation) => `${JSON.stringify(operation)}\n`).join(''),
  )
  written.push(historyPath)
  if (!report.passed) {
    await mkdir(join(folder, 'logs'), { recursive: true })
    for (const [peer, log] of Object.entries(evidence.logs)) {
      const path = join(folder, 'logs', `${peer}.log`)
      await writeFile(path, log)
      written.push(path)
    }
  }
  return written
}
