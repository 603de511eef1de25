import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkFinalState } from '../src/final-state.ts'
import { checkLinearizability } from '../src/linearizability.ts'
import { buildReport, renderMarkdown, writeReport } from '../src/report.ts'
import { op, read } from './support/operations.ts'

function reportOf(history: ReturnType<typeof op>[], recovered = true) {
  return buildReport({
    profile: 'ci',
    seed: 1,
    startedAt: new Date(0),
    seconds: 60,
    peers: ['peer-1', 'peer-2'],
    faults: [
      { kind: 'kill', targets: ['peer-1'], startedAt: 1e9, healedAt: 3e9, detail: 'kill -9' },
    ],
    history,
    linearizability: checkLinearizability(history, { reads: 'stale' }),
    strictReads: checkLinearizability(history),
    finalState: checkFinalState(history, { 'peer-1': ['a'], 'peer-2': ['a'] }),
    recovery: recovered
      ? { verdict: 'ok', seconds: 2, detail: 'leader peer-2' }
      : { verdict: 'timeout', seconds: 30, detail: 'no leader' },
  })
}

describe('reports', () => {
  it('passes a run whose every verdict is good, and counts its operations', () => {
    const report = reportOf([op('pin', 'a', 0, 10), read('a', 20, 30, 'unpinned')])
    expect(report.passed).toBe(true)
    expect(report.operations.byKind.pin.ok).toBe(1)
    expect(report.strictReads.verdict).toBe('violation')
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

  it('fails a run that did not recover', () => {
    expect(reportOf([op('pin', 'a', 0, 10)], false).passed).toBe(false)
  })

  it('fails a run with a violation and shows the offending history slice', () => {
    const report = reportOf([read('a', 0, 5, 'pinned'), op('pin', 'a', 10, 20)])
    expect(report.passed).toBe(false)
    expect(report.linearizability.cids.violation).toBe(1)
    expect(renderMarkdown(report)).toMatch(
      /### CID a: violation[\s\S]*\| read \| 0\.0 \| 0\.0 \| ok \| pinned \|/,
    )
  })

  it('writes the history and the logs only when the run failed', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'pinraft-report-'))
    try {
      const failed = reportOf([read('a', 0, 5, 'pinned'), op('pin', 'a', 10, 20)])
      await writeReport(join(folder, 'failed'), failed, {
        history: [],
        logs: { 'peer-1': 'boom\n' },
      })
      expect((await readdir(join(folder, 'failed'))).sort()).toEqual([
        'history.jsonl',
        'logs',
        'report.json',
        'report.md',
      ])
      expect(await readFile(join(folder, 'failed', 'logs', 'peer-1.log'), 'utf8')).toBe('boom\n')
      const passed = reportOf([op('pin', 'a', 0, 10)])
      await writeReport(join(folder, 'passed'), passed, {
        history: [],
        logs: { 'peer-1': 'fine\n' },
      })
      expect((await readdir(join(folder, 'passed'))).sort()).toEqual(['report.json', 'report.md'])
      expect(JSON.parse(await readFile(join(folder, 'passed', 'report.json'), 'utf8')).passed).toBe(
        true,
      )
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })
})
