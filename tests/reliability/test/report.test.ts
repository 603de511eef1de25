import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkFinalState } from '../src/final-state.ts'
import { checkLinearizability } from '../src/linearizability.ts'
import { buildReport, renderMarkdown, writeReport } from '../src/report.ts'
import { localRead, op, read } from './support/operations.ts'

function reportOf(history: ReturnType<typeof op>[], recovered = true) {
  return buildReport(partsOf(history, recovered))
}

function partsOf(
  history: ReturnType<typeof op>[],
  recovered = true,
): Parameters<typeof buildReport>[0] {
  return {
    profile: 'ci',
    seed: 1,
    startedAt: new Date(0),
    seconds: 60,
    peers: ['peer-1', 'peer-2'],
    faults: [
      { kind: 'kill', targets: ['peer-1'], startedAt: 1e9, healedAt: 3e9, detail: 'kill -9' },
    ],
    history,
    linearizability: checkLinearizability(history, { localReads: 'ignored' }),
    localReads: checkLinearizability(history, { localReads: 'monotonic' }),
    localReadsStrict: checkLinearizability(history, { localReads: 'linearizable' }),
    finalState: checkFinalState(history, { 'peer-1': ['a'], 'peer-2': ['a'] }),
    recovery: recovered
      ? { verdict: 'ok', seconds: 2, detail: 'leader peer-2' }
      : { verdict: 'timeout', seconds: 30, detail: 'no leader' },
  }
}

describe('reports', () => {
  it('passes a run whose every verdict is good, and counts its operations', () => {
    // A local read that lags is allowed; the informational strict verdict shows it.
    const report = reportOf([op('pin', 'a', 0, 10), localRead('a', 20, 30, 'unpinned')])
    expect(report.passed).toBe(true)
    expect(report.operations.byKind.pin.ok).toBe(1)
    expect(report.operations.byKind['local read'].ok).toBe(1)
    expect(report.localReadsStrict.verdict).toBe('violation')
    const markdown = renderMarkdown(report)
    expect(markdown).toMatch(/PASSED/)
    expect(markdown).toMatch(/\| kill \| peer-1 \| 1\.0 \| 3\.0 \| kill -9 \|/)
  })

  it('counts why calls failed or got no answer', () => {
    const history = [
      { ...op('pin', 'a', 0, 10, { outcome: 'unknown' }), detail: 'HTTP 504 {"code":504}' },
      {
        ...op('pin', 'a', 0, 10, { outcome: 'fail' }),
        detail: 'TypeError: fetch failed (ECONNREFUSED)',
      },
      {
        ...op('pin', 'a', 0, 10, { outcome: 'fail' }),
        detail: 'TypeError: fetch failed (ECONNREFUSED)',
      },
    ]
    expect(reportOf(history).operations.reasons).toEqual({
      'unknown pin: HTTP 504': 1,
      'fail pin: ECONNREFUSED': 2,
    })
  })

  it('fails a run whose membership fault did not do what it should', () => {
    const report = buildReport({
      ...partsOf([op('pin', 'a', 0, 10)]),
      faults: [
        {
          kind: 'membership',
          targets: ['peer-3'],
          startedAt: 0,
          failure: 'DELETE /peers/peer-3 answered 503, not 204',
        },
      ],
    })
    expect(report.passed).toBe(false)
    expect(renderMarkdown(report)).toMatch(/FAILED: DELETE \/peers\/peer-3 answered 503/)
  })

  it('fails a run whose final state could not be checked, and says why', () => {
    const report = buildReport({
      ...partsOf([op('pin', 'a', 0, 10)], false),
      finalState: {
        verdict: 'not-checked',
        violations: [],
        acknowledgedPinsChecked: 0,
        cidsChecked: 0,
      },
    })
    expect(report.passed).toBe(false)
    expect(renderMarkdown(report)).toMatch(
      /Final state: \*\*not checked\*\* \(the peers did not converge/,
    )
  })

  it('fails a run that did not recover', () => {
    expect(reportOf([op('pin', 'a', 0, 10)], false).passed).toBe(false)
  })

  it('fails a run with a violation and shows the offending history slice', () => {
    const report = reportOf([read('a', 0, 5, 'pinned'), op('pin', 'a', 10, 20)])
    expect(report.passed).toBe(false)
    expect(report.linearizability.cids.violation).toBe(1)
    expect(renderMarkdown(report)).toMatch(
      /### CID a: violation \(writes and consistent reads\)[\s\S]*\| consistent read \| 0\.0 \| 0\.0 \| ok \| pinned \|/,
    )
  })

  it('fails a run whose consistent reads see a stale state', () => {
    const report = reportOf([op('pin', 'a', 0, 10), read('a', 20, 30, 'unpinned')])
    expect(report.passed).toBe(false)
    expect(report.linearizability.verdict).toBe('violation')
  })

  it('fails a run in which the local reads of a peer go back in time', () => {
    const report = reportOf([
      op('pin', 'a', 0, 10),
      localRead('a', 20, 30, 'pinned', 'peer-2'),
      localRead('a', 40, 50, 'unpinned', 'peer-2'),
    ])
    expect(report.linearizability.verdict).toBe('linearizable')
    expect(report.localReads.verdict).toBe('violation')
    expect(report.passed).toBe(false)
    expect(renderMarkdown(report)).toMatch(/### CID a: violation \(local reads\)/)
  })

  it('writes the history of every run, and the logs when the run failed', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'pinraft-report-'))
    try {
      const failed = reportOf([read('a', 0, 5, 'pinned'), op('pin', 'a', 10, 20)])
      await writeReport(join(folder, 'failed'), failed, {
        history: [op('pin', 'a', 0, 10, { id: 3 })],
        logs: { 'peer-1': 'boom\n' },
      })
      expect((await readdir(join(folder, 'failed'))).sort()).toEqual([
        'history.jsonl',
        'logs',
        'report.json',
        'report.md',
      ])
      expect(await readFile(join(folder, 'failed', 'logs', 'peer-1.log'), 'utf8')).toBe('boom\n')
      const lines = (await readFile(join(folder, 'failed', 'history.jsonl'), 'utf8'))
        .trim()
        .split('\n')
      expect(lines.map((line) => JSON.parse(line).id)).toEqual([3])
      const passed = reportOf([op('pin', 'a', 0, 10)])
      await writeReport(join(folder, 'passed'), passed, {
        history: [],
        logs: { 'peer-1': 'fine\n' },
      })
      expect((await readdir(join(folder, 'passed'))).sort()).toEqual([
        'history.jsonl',
        'report.json',
        'report.md',
      ])
      expect(JSON.parse(await readFile(join(folder, 'passed', 'report.json'), 'utf8')).passed).toBe(
        true,
      )
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })
})
