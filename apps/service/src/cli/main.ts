import { processIo } from './io.ts'
import { runCli } from './program.ts'

const io = processIo()
const code = await runCli(process.argv.slice(2), io)
// Some libp2p timers may outlive a command, so the process exits explicitly, but only once all
// of its output has left: exiting with writes pending to a pipe loses them.
await io.flush?.()
process.exit(code)
