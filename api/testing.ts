/** Test helpers for the API (imported by *.test.ts only). */
import { type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { type Ack } from '../shared/kafka/batching-producer.ts'
import { createLogger } from '../shared/log/logger.ts'
import { Registry } from '../shared/metrics/registry.ts'
import { decodeCommand, type Command } from '../shared/schemas/command.ts'
import { createApp, type ApiDeps } from './app.ts'
import { signJwt } from './auth/jwt.ts'
import { signRequest } from './agencies/signature.ts'
import { type CommandSink } from './commands.ts'
import { NotificationHub } from './notifications/hub.ts'

export const JWT_SECRET = 'test-secret-test-secret-test-secret-0123'
export const AGENCY_SECRET = 'demo-agency-secret-0123'
export const BASE = 'http://localhost'

export const testSettings: ApiDeps['settings'] = {
  TOPIC_COMMANDS: 'reservation-commands',
  JWT_SECRET,
  AGENCY_SECRETS: { demo: AGENCY_SECRET },
  AGENCY_SIGNATURE_TOLERANCE_S: 300,
  AGENCY_LEGACY_SIGNATURE: false,
  AGENCY_UPDATE_TTL_HOURS: 24,
  BODY_LIMIT_BYTES: 65_536,
  PRODUCE_DEADLINE_MS: 2000,
  IDEMPOTENCY_TTL_HOURS: 24,
  SSE_HEARTBEAT_MS: 1000,
  SSE_MAX_REPLAY: 500,
  SSE_MAX_STREAMS_PER_USER: 5,
  SSE_MAX_STREAMS: 2000,
  // Generous: unit tests are not about rate limits (api/admission's tests set their own).
  RATE_USER_PER_S: 1000,
  RATE_USER_BURST: 10_000,
  RATE_WRITE_COST: 4,
  RATE_AGENCY_PER_S: 1000,
  RATE_AGENCY_BURST: 10_000,
  RATE_TRACKED_KEYS: 100_000,
  STREAM_TICKET_TTL_S: 300
}

/** Records what would be produced; `fail` makes sends reject like the real producer does. */
export class FakeSink implements CommandSink {
  readonly sent: Array<{ topic: string, key: string, command: Command }> = []
  fail: Error | undefined
  connected = true
  private offset = 0n
  async send (topic: string, key: string, value: string | Buffer): Promise<Ack> {
    if (this.fail) throw this.fail
    const d = decodeCommand(typeof value === 'string' ? value : new Uint8Array(value))
    if (!d.ok) throw new Error(`produced an invalid command: ${d.reason}`)
    this.sent.push({ topic, key, command: d.command })
    return { topic, partition: 0, offset: this.offset++ }
  }
  isConnected (): boolean { return this.connected }
}

export const quietLog = createLogger('api-test', 'error', {}, line => { if (process.env.TEST_LOGS) process.stderr.write(line) })

/** A DynamoDB client whose endpoint answers nothing (every call fails fast as unreachable). */
export function deadDb (): DynamoDBDocumentClient {
  return createDynamoClient({ DYNAMODB_ENDPOINT: 'http://127.0.0.1:9', AWS_REGION: 'local' }, { requestTimeoutMs: 300, maxAttempts: 1 })
}

export function testApp (o: Partial<Omit<ApiDeps, 'settings'>> & { settings?: Partial<ApiDeps['settings']> } = {}) {
  const producer = (o.producer ?? new FakeSink()) as FakeSink
  const registry = o.registry ?? new Registry()
  const hub = o.hub ?? new NotificationHub(5)
  const app = createApp({
    producer,
    db: o.db ?? deadDb(),
    table: o.table ?? 'road-warrior',
    log: o.log ?? quietLog,
    registry,
    draining: () => false,
    hub,
    tokens: o.tokens,
    settings: { ...testSettings, ...o.settings }
  })
  return { app, producer, registry, hub }
}

export function token (userId: string, o: { secret?: string, expInS?: number } = {}): string {
  const now = Math.floor(Date.now() / 1000)
  return signJwt(o.secret ?? JWT_SECRET, { sub: userId, iat: now, exp: now + (o.expInS ?? 3600) })
}

type Handler = { handle (r: Request): Promise<Response> }

/** One request in-process; `as` signs a user token; a body object is sent as JSON. */
export async function call (app: Handler, method: string, path: string, o: { as?: string, body?: unknown, headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...o.headers }
  if (o.as) headers.authorization = `Bearer ${token(o.as)}`
  let body: string | undefined
  if (o.body !== undefined) {
    body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body)
    headers['content-type'] ??= 'application/json'
    headers['content-length'] = String(Buffer.byteLength(body))
  }
  const res = await app.handle(new Request(BASE + path, { method, headers, body }))
  const text = await res.text()
  let json: any
  try { json = JSON.parse(text) } catch { json = undefined }
  return { status: res.status, headers: res.headers, json, text }
}

/** An agency update signed as the agency would sign it (v1: time, method, path, body). */
export function agencyCall (app: Handler, agencyId: string, body: unknown, o: { secret?: string, signature?: string, at?: number } = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body)
  const path = `/v1/agencies/${agencyId}/updates`
  return call(app, 'POST', path, {
    body: raw,
    headers: { 'x-signature': o.signature ?? signRequest(o.secret ?? AGENCY_SECRET, { method: 'POST', path, body: raw }, o.at) }
  })
}

export const flightBody = {
  type: 'flight',
  title: 'AF 123 Paris to Montreal',
  startsAt: '2030-02-01T08:00:00Z',
  endsAt: '2030-02-01T16:00:00Z',
  places: [{ name: 'Paris CDG', code: 'CDG' }, { name: 'Montreal YUL', code: 'YUL' }],
  trackingRef: 'ABC123',
  agencyId: 'demo',
  price: { amount: 812.5, currency: 'EUR' },
  notes: 'window seat'
}
