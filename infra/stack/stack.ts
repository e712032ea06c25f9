import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type Static } from '@sinclair/typebox'
import { type Logger } from '../../shared/log/logger.ts'
import { dynaliteService } from '../dynalite/service.ts'
import { API_POOL_CHECK, type HaproxyLimits } from '../haproxy/config.ts'
import { haproxyService } from '../haproxy/service.ts'
import { brokerService, kafkaClasspath, prepareBroker } from '../kafka/broker.ts'
import { provision } from '../provision.ts'
import { httpOk, pollUntil, type ServiceSpec } from './service.ts'
import { localSecrets, readEnvFile, writeEnvFile } from './local-env.ts'
import { killLeftovers, writePids } from './pidfile.ts'
import { type StackSettings } from './settings.ts'
import { Supervisor } from './supervisor.ts'

export const repoRoot = resolve(import.meta.dir, '..', '..')

export type Settings = Static<typeof StackSettings>

/** Everything the roles and the tests need to reach the stack, as environment variables. */
export function stackEnv (s: Settings, secrets: Record<string, string>): Record<string, string> {
  return {
    KAFKA_BROKERS: `127.0.0.1:${s.KAFKA_PORT}`,
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${s.DYNAMODB_PORT}`,
    AWS_REGION: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    KAFKA_REPLICATION_FACTOR: '1',
    // Local webhook receivers are plain http on loopback; production keeps https only.
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    COMMAND_PARTITIONS: String(s.COMMAND_PARTITIONS),
    API_URL: `http://127.0.0.1:${s.HAPROXY_PORT}`,
    HAPROXY_STATS_URL: `http://127.0.0.1:${s.HAPROXY_STATS_PORT}/`,
    LOG_LEVEL: s.LOG_LEVEL,
    ...secrets
  }
}

/** Kafka and dynalite, started and provisioned. */
export async function startInfra (sup: Supervisor, s: Settings, dataDir: string, env: Record<string, string>, log: Logger): Promise<void> {
  requireTool('java', 'Java 17+ (Debian: apt-get install -y openjdk-17-jre-headless)')
  requireTool('mvn', 'Apache Maven (Debian: apt-get install -y maven)')
  const [classpath] = await Promise.all([
    kafkaClasspath(resolve(s.MAVEN_REPO), log),
    sup.start(dynaliteService(s.DYNAMODB_PORT, join(dataDir, 'dynalite')))
  ])
  const broker = { dataDir: join(dataDir, 'kafka'), port: s.KAFKA_PORT, controllerPort: s.KAFKA_CONTROLLER_PORT, heapMb: s.KAFKA_HEAP_MB, mavenRepo: s.MAVEN_REPO, extra: brokerExtras(env) }
  const config = await prepareBroker(broker, classpath, log)
  await sup.start(brokerService(broker, classpath, config))
  await provision({ ...process.env, ...env }, log)
  log.info('stack_provisioned')
}

/** Broker properties from KAFKA_BROKER_<PROP> variables, e.g. KAFKA_BROKER_LOG_CLEANER_BACKOFF_MS=1000. */
function brokerExtras (env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries({ ...process.env, ...env })) {
    if (k.startsWith('KAFKA_BROKER_') && v !== undefined) out[k.slice(13).toLowerCase().replace(/_/g, '.')] = v
  }
  return out
}

export interface RoleSpecOptions { name: string, script: string, port: number, env: Record<string, string> }

export function roleService (o: RoleSpecOptions): ServiceSpec {
  return {
    name: o.name,
    cmd: [process.execPath, join(repoRoot, o.script)],
    cwd: repoRoot,
    env: { ...o.env, PORT: String(o.port) },
    restart: true,
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 20_000,
    ready: signal => pollUntil(o.name, () => httpOk(`http://127.0.0.1:${o.port}/readyz`), signal)
  }
}

/** The roles: API processes behind HAProxy, pinned updaters, notifiers. */
export async function startRoles (sup: Supervisor, s: Settings, dataDir: string, env: Record<string, string>): Promise<void> {
  const apiPorts = Array.from({ length: s.API_COUNT }, (_, i) => s.API_BASE_PORT + i)
  await Promise.all(apiPorts.map((port, i) => sup.start(roleService({ name: `api-${i + 1}`, script: 'api/main.ts', port, env }))))
  await sup.start(haproxyService({ port: s.HAPROXY_PORT, statsPort: s.HAPROXY_STATS_PORT, backends: apiPorts, healthPath: API_POOL_CHECK, limits: haproxyLimits(s) }, dataDir))
  await Promise.all(Array.from({ length: s.UPDATER_COUNT }, (_, i) => sup.start(roleService({
    name: `updater-${i + 1}`, script: 'updater/main.ts', port: s.UPDATER_BASE_PORT + i,
    env: { ...env, UPDATER_INDEX: String(i), UPDATER_COUNT: String(s.UPDATER_COUNT) }
  }))))
  await Promise.all(Array.from({ length: s.NOTIFIER_COUNT }, (_, i) => sup.start(roleService({
    name: `notifier-${i + 1}`, script: 'notifier/main.ts', port: s.NOTIFIER_BASE_PORT + i, env
  }))))
}

/** HAProxy's limits from the stack's settings. */
export function haproxyLimits (s: Settings): HaproxyLimits {
  return {
    connPerIp: s.HAPROXY_CONN_PER_IP,
    connRatePerIp: s.HAPROXY_CONN_RATE_PER_IP,
    reqRatePerIp: s.HAPROXY_REQ_RATE_PER_IP,
    requestSlots: s.HAPROXY_REQUEST_SLOTS,
    streamSlots: s.HAPROXY_STREAM_SLOTS
  }
}

export function ensureDir (dir: string): string {
  const abs = resolve(repoRoot, dir)
  if (!existsSync(abs)) mkdirSync(abs, { recursive: true })
  return abs
}

function requireTool (name: string, hint: string): void {
  if (!Bun.which(name)) throw new Error(`${name} not found on PATH: install ${hint}`)
}

export interface LaunchedStack {
  /** What the roles see: KAFKA_BROKERS, DYNAMODB_ENDPOINT, API_URL, JWT_SECRET, … */
  env: Record<string, string>
  dataDir: string
  envFile: string
  /** Stops everything this launch started, last started first (idempotent). */
  stop: () => Promise<void>
}

/**
 * The one way to bring a local stack up, for `npm start`, `npm test` and the bench: stops the
 * orphans of a dead earlier stack on the same folder (refuses if that stack still runs), keeps the
 * generated secrets, writes local.env, starts Kafka and dynalite and provisions, then the roles
 * unless `roles` is false. On failure, or when `signal` aborts, it stops what it started.
 */
export async function launchStack (s: Settings, o: { roles: boolean, log: Logger, extraEnv?: Record<string, string>, signal?: AbortSignal }): Promise<LaunchedStack> {
  const dataDir = ensureDir(s.STACK_DATA_DIR)
  const pidFile = join(dataDir, 'stack.pids')
  const stopped = await killLeftovers(pidFile, dataDir, repoRoot)
  if (stopped.length) o.log.warn('stack_leftovers_stopped', { pids: stopped })
  const envFile = join(dataDir, 'local.env')
  const env: Record<string, string> = { ...stackEnv(s, localSecrets(readEnvFile(envFile))), ...o.extraEnv }
  writeEnvFile(envFile, env)
  const sup = new Supervisor(join(dataDir, 'logs'), o.log, pids => writePids(pidFile, [process.pid, ...pids]))
  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= sup.stopAll())
  // A signal during start-up stops what already runs; the start then fails and says so.
  o.signal?.addEventListener('abort', () => void stop(), { once: true })
  try {
    o.log.info('stack_starting', { dataDir, logs: join(dataDir, 'logs'), roles: o.roles })
    await startInfra(sup, s, dataDir, env, o.log)
    if (o.roles) await startRoles(sup, s, dataDir, env)
  } catch (err) {
    await stop()
    throw err
  }
  return { env, dataDir, envFile, stop }
}
