/**
 * The local stack. `npm start` runs `start`: Kafka, dynalite, provisioning, the API processes behind
 * HAProxy, the updaters and the notifiers, all supervised, until Ctrl-C or SIGTERM stops them all.
 * `npm test` runs `test`: the same infrastructure on its own ports and a throw-away folder, every
 * test with bun test, then teardown.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { loadEnvOrExit } from '../../shared/config/env.ts'
import { consoleLogger } from './console.ts'
import { localSecrets, readEnvFile, writeEnvFile } from './local-env.ts'
import { killLeftovers, writePids } from './pidfile.ts'
import { StackSettings } from './settings.ts'
import { ensureDir, repoRoot, stackEnv, startInfra, startRoles } from './stack.ts'
import { Supervisor } from './supervisor.ts'
import { runTests } from './test-run.ts'

const mode = process.argv[2] ?? 'start'
const log = consoleLogger('stack')

/** Ports and folder of `npm test`, far from `npm start`'s so both can run at once. */
const testDefaults: Record<string, string> = {
  STACK_DATA_DIR: join('.test-data', `run-${Date.now()}-${process.pid}`),
  KAFKA_PORT: '19092', KAFKA_CONTROLLER_PORT: '19093', DYNAMODB_PORT: '18000',
  HAPROXY_PORT: '18080', HAPROXY_STATS_PORT: '18404', API_BASE_PORT: '13001', UPDATER_BASE_PORT: '13101', NOTIFIER_BASE_PORT: '13201',
  // An eager log cleaner, so the compaction test sees the status topic compacted within seconds.
  KAFKA_BROKER_LOG_CLEANER_BACKOFF_MS: '500'
}

async function main (): Promise<number> {
  if (mode !== 'start' && mode !== 'test' && mode !== 'infra') {
    process.stderr.write('usage: bun infra/stack/main.ts start|infra|test [bun test arguments]\n')
    return 64
  }
  const test = mode === 'test'
  // `npm test` never reads the operator's settings for `npm start`: only its own STACK_TEST_* overrides.
  const env = test ? { ...testDefaults, ...prefixed('STACK_TEST_') } : process.env
  const s = loadEnvOrExit(StackSettings, env as Record<string, string | undefined>)
  const dataDir = ensureDir(s.STACK_DATA_DIR)
  const pidFile = join(dataDir, 'stack.pids')
  const stopped = await killLeftovers(pidFile, [dataDir, repoRoot])
  if (stopped.length) log.warn('stack_leftovers_stopped', { pids: stopped })

  const envFile = join(dataDir, 'local.env')
  const secrets = localSecrets(readEnvFile(envFile))
  const roleEnv: Record<string, string> = stackEnv(s, secrets)
  if (test) roleEnv.KAFKA_BROKER_LOG_CLEANER_BACKOFF_MS = testDefaults.KAFKA_BROKER_LOG_CLEANER_BACKOFF_MS!
  writeEnvFile(envFile, roleEnv)

  const sup = new Supervisor(join(dataDir, 'logs'), log, pids => writePids(pidFile, [process.pid, ...pids]))
  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= sup.stopAll())
  let code = 0
  const onSignal = (signal: string) => {
    log.info('stack_stopping', { signal })
    stop().then(() => process.exit(code || 0))
  }
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))

  try {
    log.info('stack_starting', { mode, dataDir, logs: join(dataDir, 'logs') })
    await startInfra(sup, s, dataDir, roleEnv, log)
    if (test) {
      code = await runTests(process.argv.slice(3), { ...roleEnv, STACK_DATA_DIR: dataDir, MAVEN_REPO: s.MAVEN_REPO }, log)
      return code
    }
    if (mode === 'start') await startRoles(sup, s, dataDir, roleEnv)
    log.info('stack_ready', {
      api: roleEnv.API_URL, haproxyStats: roleEnv.HAPROXY_STATS_URL, kafka: roleEnv.KAFKA_BROKERS,
      dynamodb: roleEnv.DYNAMODB_ENDPOINT, env: envFile, logs: join(dataDir, 'logs')
    })
    process.stdout.write(mode === 'start'
      ? `\nRoad Warrior is up. API: ${roleEnv.API_URL}  (a token: bun run token <userId>)\nEndpoints and secrets: ${envFile}. Ctrl-C stops everything.\n\n`
      : `\nKafka and dynalite are up (no roles). Endpoints: ${envFile}. Ctrl-C stops them.\n\n`)
    await new Promise(() => {}) // until a signal
    return 0
  } catch (err) {
    log.error('stack_failed', { error: err as Error })
    code = 1
    return code
  } finally {
    if (mode === 'test' || code !== 0) {
      await stop()
      if (test && !process.env.STACK_TEST_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

function prefixed (prefix: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith(prefix) && v !== undefined) out[k.slice(prefix.length)] = v
  return out
}

const code = await main()
if (mode === 'test' || code !== 0) process.exit(code)
