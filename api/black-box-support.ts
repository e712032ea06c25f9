/**
 * Black-box harness of the API's attack tests (imported by *.integration.test.ts only): a real API
 * process and a real updater process on the test stack's Kafka and dynalite, with their own
 * command and status topics and their own table, driven over HTTP; plus a reader of the command
 * topic to count what was produced.
 */
import { join } from 'node:path'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { ensureTable } from '../shared/dynamo/table.ts'
import { deadLetterTopic, ensureTopics } from '../shared/kafka/topics.ts'
import { testLogger } from '../test/support/logger.ts'
import { brokers, freePort, stackEnv, uniq, waitFor } from '../test/support/stack.ts'
import { signRequest } from './agencies/signature.ts'
import { CommandLog } from './integration-support.ts'
import { signJwt } from './auth/jwt.ts'

const repo = join(import.meta.dir, '..')
export const JWT_SECRET = 'black-box-jwt-secret-0123456789abcdef'
export const AGENCY_ID = 'acme'
export const AGENCY_SECRET = 'acme-agency-secret-0123456789'

interface Role { proc: ReturnType<typeof Bun.spawn>, logs: () => string }

function spawnRole (script: string, env: Record<string, string>): Role {
  const proc = Bun.spawn([process.execPath, join(repo, script)], { cwd: repo, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
  let text = ''
  const pump = async (s: ReadableStream<Uint8Array>) => { for await (const c of s) { text += new TextDecoder().decode(c); if (process.env.TEST_LOGS) process.stderr.write(c) } }
  void pump(proc.stdout as ReadableStream<Uint8Array>)
  void pump(proc.stderr as ReadableStream<Uint8Array>)
  return { proc, logs: () => text }
}

export interface Roles {
  url: string
  commandsTopic: string
  table: string
  /** Every command produced to this harness's command topic, in order. */
  commands: CommandLog
  logs: () => string
  stop: () => Promise<void>
}

/** Topics, table, one updater (all partitions) and one API process; resolves once the API is ready. */
export async function startRoles (prefix: string, apiEnv: Record<string, string> = {}): Promise<Roles> {
  const env = stackEnv()
  const base = uniq(prefix)
  const commandsTopic = `${base}-cmd`
  const statusTopic = `${base}-status`
  await ensureTopics(brokers(), [
    { name: commandsTopic, partitions: 2, replicationFactor: 1, configs: {} },
    { name: statusTopic, partitions: 2, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } },
    { name: deadLetterTopic(commandsTopic, 'updater'), partitions: 1, replicationFactor: 1, configs: {} }
  ], testLogger)
  const table = uniq(`${prefix}-table`)
  const db = createDynamoClient({ DYNAMODB_ENDPOINT: env.DYNAMODB_ENDPOINT!, AWS_REGION: 'local' })
  try { await ensureTable(db, table, testLogger) } finally { db.destroy() }

  const common = {
    KAFKA_BROKERS: env.KAFKA_BROKERS!,
    DYNAMODB_ENDPOINT: env.DYNAMODB_ENDPOINT!,
    AWS_REGION: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    TOPIC_COMMANDS: commandsTopic,
    TOPIC_STATUS: statusTopic,
    COMMAND_PARTITIONS: '2',
    STATUS_PARTITIONS: '2',
    TABLE_NAME: table,
    LOG_LEVEL: process.env.TEST_LOGS ? 'debug' : 'warn'
  }
  const updater = spawnRole('updater/main.ts', {
    ...common,
    PORT: String(freePort()),
    UPDATER_GROUP_ID: `${commandsTopic}-updater`,
    UPDATER_LEASE_TTL_MS: '3000',
    UPDATER_FINISHER_INTERVAL_MS: '0',
    UPDATER_FETCH_MAX_WAIT_MS: '50',
    UPDATER_BATCH_MAX_WAIT_MS: '5'
  })
  const apiPort = freePort()
  const startApi = () => spawnRole('api/main.ts', {
    ...common,
    PORT: String(apiPort),
    JWT_SECRET,
    AGENCY_SECRETS: JSON.stringify({ [AGENCY_ID]: AGENCY_SECRET, other: 'other-agency-secret-0123456789' }),
    DRAIN_DELAY_MS: '0',
    SHUTDOWN_GRACE_MS: '5000',
    ...apiEnv
  })
  let api = startApi()
  const url = `http://127.0.0.1:${apiPort}`
  let earlier = ''
  const logs = () => `--- api ---\n${earlier}${api.logs()}\n--- updater ---\n${updater.logs()}`
  const commands = new CommandLog()
  const stop = async () => {
    await commands.stop()
    for (const r of [api, updater]) { r.proc.kill('SIGTERM') }
    await Promise.all([api, updater].map(r => Promise.race([r.proc.exited, Bun.sleep(8000).then(() => { r.proc.kill('SIGKILL') })])))
  }
  try {
    // As the stack's supervisor does, start the API again if it exits before it is ready (a broker
    // that was just started answers COORDINATOR_LOAD_IN_PROGRESS to the first producer for a while).
    for (let attempt = 1; ; attempt++) {
      const ready = await Promise.race([
        waitFor('the API ready', async () => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200, 60_000, 200).then(() => true),
        api.proc.exited.then(() => false)
      ])
      if (ready) break
      if (attempt === 3) throw new Error('the API exited before it was ready, 3 times')
      earlier += `${api.logs()}\n--- api restarted ---\n`
      await Bun.sleep(1000)
      api = startApi()
    }
    await commands.start(commandsTopic)
  } catch (err) {
    await stop()
    throw new Error(`${(err as Error).message}\n${logs()}`)
  }
  return { url, commandsTopic, table, commands, logs, stop }
}

export function bearer (userId: string): string {
  const now = Math.floor(Date.now() / 1000)
  return `Bearer ${signJwt(JWT_SECRET, { sub: userId, iat: now, exp: now + 3600 })}`
}

export interface Answer { status: number, json: any, headers: Headers }

/** One request over HTTP; `as` signs a user token; a body object is sent as JSON. */
export async function http (url: string, method: string, path: string, o: { as?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...o.headers }
  if (o.as !== undefined) headers.authorization = bearer(o.as)
  let body: string | undefined
  if (o.body !== undefined) {
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(url + path, { method, headers, body, signal: AbortSignal.timeout(10_000) })
  const text = await res.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: res.status, json, headers: res.headers }
}

/** An agency's request exactly as sent: raw body and headers, so it can be replayed byte for byte. */
export interface AgencyRequest { path: string, raw: string, headers: Record<string, string> }

export function agencyRequest (body: unknown, o: { agencyId?: string, secret?: string, signedAtS?: number } = {}): AgencyRequest {
  const path = `/v1/agencies/${o.agencyId ?? AGENCY_ID}/updates`
  const raw = JSON.stringify(body)
  const signature = signRequest(o.secret ?? AGENCY_SECRET, { method: 'POST', path, body: raw }, o.signedAtS)
  return { path, raw, headers: { 'content-type': 'application/json', 'x-signature': signature } }
}

export async function send (url: string, r: AgencyRequest): Promise<Answer> {
  return await http(url, 'POST', r.path, { body: r.raw, headers: r.headers })
}

/** Polls a GET until `pred` holds on its answer. */
export async function until (what: string, get: () => Promise<Answer>, pred: (a: Answer) => boolean, timeoutMs = 15_000): Promise<Answer> {
  let last: Answer | undefined
  await waitFor(what, async () => { last = await get(); return pred(last) }, timeoutMs, 50)
  return last!
}
