import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Re-checks that the test suite catches the mistakes listed in CONTRIBUTING.md: each mutation
 * is written into the source, the tests named for it must fail, and the source is restored.
 *   pnpm --filter @pinraft/raft-core mutations [name ...]
 * Run it from a clean work tree: it edits files under src/ while it runs (and restores them,
 * also on Ctrl-C).
 */
interface Mutation {
  readonly name: string
  readonly file: string
  readonly find: string
  readonly replace: string
  /** Test files (and an optional `-t` filter) that must fail with the mutation in place. */
  readonly tests: readonly string[]
  readonly filter?: string
}

export const mutations: readonly Mutation[] = [
  {
    name: 'ready-ignores-vote',
    file: 'src/raft/raw-node.ts',
    find: 'return a.term === b.term && a.vote === b.vote && a.commit === b.commit',
    replace: 'return a.term === b.term && a.commit === b.commit',
    tests: ['test/raft-features.test.ts'],
    filter: 'a vote cast in the current term',
  },
  {
    name: 'promote-before-caught-up',
    file: 'src/raft/raft.ts',
    find: '      progress.match < this.log.committed\n',
    replace: '      progress.match < 0\n',
    tests: ['test/raft-features.test.ts'],
    filter: 'a staging member is promoted only once',
  },
  {
    name: 'new-leader-changes-configuration-at-once',
    file: 'src/raft/raft.ts',
    find: 'this.pendingConfigurationIndex = this.log.lastIndex() + 1',
    replace: 'this.pendingConfigurationIndex = 0',
    tests: ['test/raft-features.test.ts', 'test/simulation.test.ts'],
    filter: 'a new leader refuses a configuration change|keeps every safety property',
  },
  {
    name: 'removed-leader-hands-over-early',
    file: 'src/raft/raft.ts',
    find: '      this.removingSelf = true\n',
    replace: '      this.removingSelf = true\n      this.handOverAfterRemoval()\n      return\n',
    tests: ['test/raft-features.test.ts'],
    filter: 'keeps leading until its removal commits',
  },
  {
    name: 'sends-before-term-durable',
    file: 'src/node/ready-plan.ts',
    find: "if (!termOrVoteChanged && (message.type === 'append' || message.type === 'heartbeat')) {",
    replace: "if (message.type === 'append' || message.type === 'heartbeat') {",
    tests: [
      'test/raft-node-write-order.test.ts',
      'test/ready-plan.test.ts',
      'test/simulation.test.ts',
    ],
    filter: 'term|safety property',
  },
  {
    name: 'raft-node-plans-against-unsaved-state',
    file: 'src/node/raft-node.ts',
    find: 'const plan = planReady(ready, this.savedHardState)',
    replace: 'const plan = planReady(ready, ready.hardState ?? this.savedHardState)',
    tests: ['test/raft-node-write-order.test.ts'],
    filter: 'sends no message of a term',
  },
  {
    name: 'raft-node-writes-term-with-entries',
    file: 'src/node/raft-node.ts',
    find: '? this.persistBoth(hardState, entries, plan.hardStateFirst)',
    replace: '? this.persistBoth(hardState, entries, false)',
    tests: ['test/raft-node-write-order.test.ts'],
    filter: 'writes a new term before entries of it',
  },
  {
    name: 'entries-written-with-new-term',
    file: 'src/node/ready-plan.ts',
    find: 'hardStateFirst: termOrVoteChanged && first !== undefined,',
    replace: 'hardStateFirst: false,',
    tests: ['test/ready-plan.test.ts', 'test/simulation.test.ts'],
    filter: 'new term|safety property',
  },
  {
    name: 'figure-8-counts-old-terms',
    file: 'src/raft/raft.ts',
    find: 'if (index > this.log.committed && this.log.term(index) === this.term) {',
    replace: 'if (index > this.log.committed) {',
    tests: ['test/raft-paper.test.ts', 'test/simulation.test.ts'],
    filter: 'Figure 8|safety property',
  },
  {
    name: 'read-before-first-commit',
    file: 'src/raft/raft.ts',
    find: 'if (!this.committedInCurrentTerm()) {',
    replace: 'if (this.term < 0) {',
    tests: ['test/simulation.test.ts'],
    filter: 'safety property',
  },
  {
    name: 'lost-suffix-lowered-silently',
    file: 'src/raft/raft-log.ts',
    find: '    if (commit > log.lastIndex()) {',
    replace: '    if (commit < 0) {',
    tests: ['test/raft-features.test.ts'],
    filter: 'a commit index past the stored log',
  },
]

function runTests(mutation: Mutation): { status: number | null; stdout: string } {
  const filter = mutation.filter !== undefined ? ['-t', mutation.filter] : []
  return spawnSync('pnpm', ['exec', 'vitest', 'run', ...mutation.tests, ...filter], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, RAFT_SIM_SEEDS: process.env.RAFT_SIM_SEEDS ?? '1200' },
  })
}

function stripColours(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes
  return text.replace(/\u001b\[[0-9;]*m/g, '')
}

const root = fileURLToPath(new URL('..', import.meta.url))
const wanted = process.argv.slice(2)
const chosen = wanted.length === 0 ? mutations : mutations.filter((m) => wanted.includes(m.name))
let restore: (() => void) | undefined
process.on('SIGINT', () => {
  restore?.()
  process.exit(130)
})

let survived = 0
for (const mutation of chosen) {
  const path = `${root}${mutation.file}`
  const source = readFileSync(path, 'utf8')
  if (source.split(mutation.find).length !== 2) {
    console.error(
      `${mutation.name}: the code to mutate is not found once in ${mutation.file}; update sim/mutations.ts`,
    )
    survived++
    continue
  }
  // The same tests must pass, and run at least one test, without the mutation: a failure is
  // then the mutation's doing.
  const baseline = runTests(mutation)
  if (baseline.status !== 0 || !/Tests\s+\d+ passed/.test(stripColours(baseline.stdout))) {
    console.error(`${mutation.name}: its tests do not pass (or match nothing) without the mutation`)
    survived++
    continue
  }
  restore = () => writeFileSync(path, source)
  try {
    writeFileSync(path, source.replace(mutation.find, mutation.replace))
    const caught = runTests(mutation).status !== 0
    if (!caught) survived++
    console.log(`${caught ? 'caught  ' : 'SURVIVED'} ${mutation.name}`)
  } finally {
    restore()
    restore = undefined
  }
}
console.log(`${chosen.length - survived} of ${chosen.length} mutations caught`)
process.exit(survived > 0 ? 1 : 0)
