import { join, resolve } from 'node:path'
import { type Static } from '@sinclair/typebox'
import { loadEnv } from '../../shared/config/env.ts'
import { createLogger } from '../../shared/log/logger.ts'
import { readEnvFile } from '../../infra/stack/local-env.ts'
import { StackSettings } from '../../infra/stack/settings.ts'
import { httpOk } from '../../infra/stack/service.ts'
import { launchStack, repoRoot } from '../../infra/stack/stack.ts'

export type StackSettingsValues = Static<typeof StackSettings>

export interface StackHandle {
  /** What the roles see: KAFKA_BROKERS, DYNAMODB_ENDPOINT, API_URL, JWT_SECRET, … */
  env: Record<string, string>
  settings: StackSettingsValues
  /** True when a running stack was found and reused (the bench then leaves it running). */
  reused: boolean
  dataDir: string
  /** Stops what the bench started (nothing when reused). */
  stop: () => Promise<void>
}

const answers = (url: string) => httpOk(url, 1500).catch(() => false)

/**
 * The local stack of STACK_DATA_DIR and the same port variables `bun run stack` reads: reused when
 * its local.env names an API whose /readyz answers, else started here the way `stack start` does
 * (Kafka, dynalite, provisioning, API processes behind HAProxy, updaters, notifiers) and stopped by
 * `stop()`. Stack logs go to stderr as JSON lines, leaving stdout to the bench's summary.
 */
export async function ensureStack (progress: (line: string) => void): Promise<StackHandle> {
  const settings = loadEnv(StackSettings, process.env)
  const dataDir = resolve(repoRoot, settings.STACK_DATA_DIR)
  const envFile = join(dataDir, 'local.env')
  const existing = readEnvFile(envFile)
  if (existing.API_URL && await answers(`${existing.API_URL}/readyz`)) {
    progress(`stack: reusing the running stack of ${envFile} (API ${existing.API_URL})`)
    return { env: existing, settings, reused: true, dataDir, stop: async () => {} }
  }
  progress(`stack: none running for ${envFile}; starting Kafka, dynalite, ${settings.API_COUNT} API processes, HAProxy, ${settings.UPDATER_COUNT} updaters, ${settings.NOTIFIER_COUNT} notifiers`)
  const log = createLogger('bench-stack', 'warn', {}, line => process.stderr.write(line))
  const { env, stop } = await launchStack(settings, { roles: true, log }).catch((err: Error) => {
    // dynalite's ListTables (the stack's readiness probe, 1 s timeout) walks every key of the
    // LevelDB store, not just the table names: past roughly 350,000 keys (the 10,000-user seed plus
    // one bench run's writes) it takes over a second and the stack never starts on that folder.
    if (/dynalite/.test(err.message)) err.message += ` — if ${join(dataDir, 'dynalite')} holds a large data set, dynalite's ListTables (the readiness probe) may take over 1 s (it walks every key): start from a fresh STACK_DATA_DIR`
    throw err
  })
  progress(`stack: up (API ${env.API_URL}); logs in ${join(dataDir, 'logs')}`)
  return { env, settings, reused: false, dataDir, stop }
}
