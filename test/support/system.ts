/**
 * The whole system for end-to-end tests (imported by *.integration.test.ts only): API processes
 * behind HAProxy, one updater and one notifier, each a `bun <role>/main.ts` child process under the
 * stack's own supervisor, on the test stack's Kafka and dynalite, with topics and a table of their
 * own (provisioned as `npm start` provisions). Every setting is the roles' production default
 * except names, ports, secrets and what a test needs: loopback webhooks, no ended-trips task, quick
 * shutdowns. Tokens and agency signatures are the black-box harness's (api/black-box-support.ts).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AGENCY_ID, AGENCY_SECRET, JWT_SECRET } from '../../api/black-box-support.ts'
import { API_POOL_CHECK } from '../../infra/haproxy/config.ts'
import { haproxyService } from '../../infra/haproxy/service.ts'
import { provision } from '../../infra/provision.ts'
import { roleService } from '../../infra/stack/stack.ts'
import { Supervisor } from '../../infra/stack/supervisor.ts'
import { createLogger } from '../../shared/log/logger.ts'
import { freePort, stackEnv, uniq, waitFor } from './stack.ts'

export interface System {
  /** HAProxy's frontend: what users and agencies reach. */
  url: string
  /** Supervisor lines saying a role exited or was restarted after it was ready (a crash). */
  crashes: () => string[]
  /** The last lines of every process's log, for a failure message. */
  logs: () => string
  /** A role's Prometheus text (`api-1`, `updater`, `notifier`), to explain a figure. */
  metrics: (name: string) => Promise<string>
  stop: () => Promise<void>
}

/** Topics, table, `apis` API processes behind HAProxy, one updater, one notifier; resolves once all are ready. */
export async function startSystem (prefix: string, o: { apis?: number } = {}): Promise<System> {
  const env = stackEnv()
  const base = uniq(prefix)
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`))
  let supervisorLines = ''
  let started = false
  const crashLines: string[] = []
  const log = createLogger('system', 'info', {}, line => {
    supervisorLines += line
    if (started && /service_(restart|exited)/.test(line)) crashLines.push(line.trim())
    if (process.env.TEST_LOGS) process.stderr.write(line)
  })
  const sup = new Supervisor(join(dir, 'logs'), log)
  const names = ['updater', 'notifier', 'haproxy', ...Array.from({ length: o.apis ?? 2 }, (_, i) => `api-${i + 1}`)]
  const logs = () => [`--- supervisor ---\n${supervisorLines}`, ...names.map(n => {
    const file = sup.logFile(n)
    return `--- ${n} (last lines) ---\n${existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-25).join('\n') : '(no log)'}`
  })].join('\n')
  const stop = async () => { await sup.stopAll(); rmSync(dir, { recursive: true, force: true }) }
  const ports = new Map<string, number>()
  const metrics = async (name: string) => await (await fetch(`http://127.0.0.1:${ports.get(name)}/metrics`, { signal: AbortSignal.timeout(2000) })).text()

  const common: Record<string, string> = {
    TOPIC_COMMANDS: `${base}-commands`,
    TOPIC_STATUS: `${base}-status`,
    TOPIC_NOTIFICATIONS: `${base}-notifications`,
    TABLE_NAME: `${base}-table`,
    COMMAND_PARTITIONS: '2',
    STATUS_PARTITIONS: '2',
    NOTIFICATION_PARTITIONS: '2',
    KAFKA_REPLICATION_FACTOR: '1',
    JWT_SECRET,
    AGENCY_SECRETS: JSON.stringify({ [AGENCY_ID]: AGENCY_SECRET }),
    LOG_LEVEL: process.env.TEST_LOGS ? 'debug' : 'warn'
  }
  try {
    await provision({ ...env, ...common }, log)
    const apiPorts = Array.from({ length: o.apis ?? 2 }, () => freePort())
    const role = (name: string, script: string, port: number, extra: Record<string, string>) => {
      ports.set(name, port)
      return sup.start(roleService({ name, script, port, env: { ...common, ...extra } }))
    }
    await Promise.all([
      ...apiPorts.map((port, i) => role(`api-${i + 1}`, 'api/main.ts', port, { DRAIN_DELAY_MS: '0', SHUTDOWN_GRACE_MS: '5000' })),
      role('updater', 'updater/main.ts', freePort(), { UPDATER_GROUP_ID: `${base}-updater`, UPDATER_FINISHER_INTERVAL_MS: '0', SHUTDOWN_GRACE_MS: '5000' }),
      role('notifier', 'notifier/main.ts', freePort(), {
        NOTIFIER_GROUP_ID: `${base}-notifier`,
        WEBHOOK_GROUP_ID: `${base}-webhooks`,
        WEBHOOK_ALLOW_HTTP: 'true',
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        SHUTDOWN_GRACE_MS: '5000'
      })
    ])
    const port = freePort()
    const statsPort = freePort()
    await sup.start(haproxyService({ port, statsPort, backends: apiPorts, healthPath: API_POOL_CHECK }, dir))
    // Every API process in HAProxy's pool, so no request meets an empty pool.
    await waitFor('every API process UP behind HAProxy', async () => (await serversUp(statsPort)) === apiPorts.length, 15_000, 100)
    started = true
    return { url: `http://127.0.0.1:${port}`, crashes: () => crashLines, logs, metrics, stop }
  } catch (err) {
    const text = logs()
    await stop()
    throw new Error(`${(err as Error).message}\n${text}`)
  }
}

/** API servers HAProxy reports UP (its stats CSV). */
async function serversUp (statsPort: number): Promise<number> {
  const csv = await (await fetch(`http://127.0.0.1:${statsPort}/;csv`, { signal: AbortSignal.timeout(1000) })).text()
  const [header, ...rows] = csv.trim().split('\n')
  const cols = header!.replace(/^# /, '').split(',')
  const px = cols.indexOf('pxname')
  const sv = cols.indexOf('svname')
  const status = cols.indexOf('status')
  return rows.map(r => r.split(',')).filter(v => v[px] === 'api_processes' && v[sv]!.startsWith('api-') && v[status] === 'UP').length
}
