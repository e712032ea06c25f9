/**
 * dynalite (DynamoDB's API on LevelDB) on loopback, run on Bun (faster than on Node here).
 * Carries patches/dynalite+4.0.0.patch (iterator leak). SIGTERM closes the server, then LevelDB.
 * Usage: bun infra/dynalite/server.ts <port> <path>
 */
import { mkdirSync } from 'node:fs'
// @ts-expect-error dynalite ships no types
import dynalite from 'dynalite'

const port = Number(process.argv[2])
const path = process.argv[3]
if (!Number.isInteger(port) || !path) {
  process.stderr.write('usage: bun infra/dynalite/server.ts <port> <path>\n')
  process.exit(64)
}
mkdirSync(path, { recursive: true })
// Tables are ACTIVE at once: the 500 ms CREATING default only slows provisioning and tests.
const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ level: 'info', component: 'dynalite', msg: 'listening', port, path }) + '\n')
})

let closing = false
function shutdown (): void {
  if (closing) return
  closing = true
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 3000).unref()
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
