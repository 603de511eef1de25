import { processIo } from './io.ts'
import { runCli } from './program.ts'

// Some libp2p timers may outlive a command: exit explicitly once it is done.
process.exit(await runCli(process.argv.slice(2), processIo()))
