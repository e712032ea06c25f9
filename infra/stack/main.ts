/**
 * The local stack. `npm start` runs `start`: Kafka, dynalite, provisioning, the API processes behind
 * HAProxy, the updaters and the notifiers, all supervised, until Ctrl-C or SIGTERM stops them all.
 * `infra` starts Kafka and dynalite only. `npm test` runs `test`: the infrastructure on its own ports
 * and a throw-away folder, every test with bun test, then teardown.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { loadEnvOrExit } from '../../shared/config/env.ts'
import { consoleLogger } from './console.ts'
import { StackRunningError } from './pidfile.ts'
import { StackSettings } from './settings.ts'
import { launchStack, type LaunchedStack } from './stack.ts'
import { runTests } from './test-run.ts'

const mode = process.argv[2] ?? 'start'
const log = consoleLogger('stack')

/** Ports and folder of `npm test`, far from `npm start`'s so both can run at once. */
const testDefaults: Record<string, string> = {
  STACK_DATA_DIR: join('.test-data', `run-${Date.now()}-${process.pid}`),
  KAFKA_PORT: '19092', KAFKA_CONTROLLER_PORT: '19093', DYNAMODB_PORT: '18000',
  HAPROXY_PORT: '18080', HAPROXY_STATS_PORT: '18404', API_BASE_PORT: '13001', UPDATER_BASE_PORT: '13101', NOTIFIER_BASE_PORT: '13201'
}
/**
 * An eager log cleaner, so the compaction tests see a topic compacted within seconds. Per-user
 * and per-agency rate limits far above production's: many tests drive one user hard on purpose
 * (floods that test other defences); the rate limit tests set their own figures.
 */
const testEnv = {
  KAFKA_BROKER_LOG_CLEANER_BACKOFF_MS: '500',
  RATE_USER_PER_S: '10000', RATE_USER_BURST: '100000', RATE_AGENCY_PER_S: '10000', RATE_AGENCY_BURST: '100000'
}

async function main (): Promise<number> {
  if (mode !== 'start' && mode !== 'test' && mode !== 'infra') {
    process.stderr.write('usage: bun infra/stack/main.ts start|infra|test [bun test arguments]\n')
    return 64
  }
  const test = mode === 'test'
  // `npm test` never reads the operator's settings for `npm start`: only its own STACK_TEST_* overrides.
  const s = loadEnvOrExit(StackSettings, test ? { ...testDefaults, ...prefixed('STACK_TEST_') } : process.env)

  let stack: LaunchedStack | undefined
  const starting = new AbortController()
  const onSignal = (signal: string) => {
    if (starting.signal.aborted) return
    log.info('stack_stopping', { signal })
    starting.abort()
    // Still starting: launchStack stops what it started and main returns. Running: stop here.
    stack?.stop().then(() => process.exit(0))
  }
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))

  try {
    stack = await launchStack(s, { roles: mode === 'start', log, extraEnv: test ? testEnv : undefined, signal: starting.signal })
  } catch (err) {
    if (starting.signal.aborted) return 0
    log.error(err instanceof StackRunningError ? 'stack_already_running' : 'stack_failed', { error: err as Error })
    return err instanceof StackRunningError ? 75 : 1
  }
  if (test) {
    try {
      return await runTests(process.argv.slice(3), { ...stack.env, STACK_DATA_DIR: stack.dataDir, MAVEN_REPO: s.MAVEN_REPO }, log)
    } finally {
      await stack.stop()
      if (!process.env.STACK_TEST_KEEP_DATA) rmSync(stack.dataDir, { recursive: true, force: true })
    }
  }
  const { env, envFile, dataDir } = stack
  log.info('stack_ready', { api: env.API_URL, haproxyStats: env.HAPROXY_STATS_URL, kafka: env.KAFKA_BROKERS, dynamodb: env.DYNAMODB_ENDPOINT, env: envFile, logs: join(dataDir, 'logs') })
  process.stdout.write(mode === 'start'
    ? `\nRoad Warrior is up. API: ${env.API_URL}  (a token: bun run token <userId>)\nEndpoints and secrets: ${envFile}. Ctrl-C stops everything.\n\n`
    : `\nKafka and dynalite are up (no roles). Endpoints: ${envFile}. Ctrl-C stops them.\n\n`)
  await new Promise(() => {}) // until a signal
  return 0
}

function prefixed (prefix: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith(prefix) && v !== undefined) out[k.slice(prefix.length)] = v
  return out
}

process.exit(await main())
