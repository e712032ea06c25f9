/** `bun run api`: one API process. Reads its settings from the environment (api/config.ts). */
import { loadEnvOrExit } from '../shared/config/env.ts'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { listenOrExit } from '../shared/http/listen.ts'
import { BatchingProducer } from '../shared/kafka/batching-producer.ts'
import { createLogger } from '../shared/log/logger.ts'
import { Registry } from '../shared/metrics/registry.ts'
import { onShutdown } from '../shared/process/shutdown.ts'
import { ClientAddresses } from './admission/client-address.ts'
import { serveApi } from './admission/serve.ts'
import { createApp } from './app.ts'
import { JwksKeys } from './auth/jwks.ts'
import { TokenVerifier } from './auth/verifier.ts'
import { ApiSettings, checkApiSettings } from './config.ts'
import { NotificationHub } from './notifications/hub.ts'
import { LiveFeed } from './notifications/live-feed.ts'

const s = loadEnvOrExit(ApiSettings, process.env, checkApiSettings)
const log = createLogger('api', s.LOG_LEVEL, { pid: process.pid })
const registry = new Registry()
const produceLatency = registry.histogram('api_produce_seconds', 'Time Kafka took to acknowledge one batched send')
const producer = new BatchingProducer({
  brokers: s.KAFKA_BROKERS.split(','),
  clientId: `${s.KAFKA_CLIENT_ID}-api`,
  lingerMs: s.PRODUCE_LINGER_MS,
  maxBatchMessages: s.PRODUCE_MAX_BATCH,
  maxInFlight: s.PRODUCE_MAX_IN_FLIGHT,
  deadlineMs: s.PRODUCE_DEADLINE_MS,
  clockSkewMs: s.PRODUCE_CLOCK_SKEW_MS
}, { onSend: (n, secs, ok) => produceLatency.observe({ outcome: ok ? 'ok' : 'error' }, secs) })
const db = createDynamoClient(s, { requestTimeoutMs: 700 })

let draining = false
const hub = new NotificationHub(s.SSE_MAX_STREAMS_PER_USER, s.SSE_MAX_STREAMS)
// Every API process reads the whole notifications topic and pushes to its own open streams.
const liveFeed = new LiveFeed({ brokers: s.KAFKA_BROKERS.split(','), topic: s.TOPIC_NOTIFICATIONS, publish: (userId, n) => hub.publish(userId, n), log })
// Not ready until the identity provider's keys are loaded: a token could not be checked before.
const jwks = s.JWT_JWKS_URL ? new JwksKeys({ url: s.JWT_JWKS_URL, refreshMs: s.JWT_JWKS_REFRESH_MS, log }) : undefined
const tokens = new TokenVerifier({ secret: s.JWT_SECRET, jwks, issuer: s.JWT_ISSUER, audience: s.JWT_AUDIENCE })
const checks = { notifications: () => liveFeed.ready(), ...(jwks ? { jwks: () => jwks.ready() } : {}) }
const app = createApp({ producer, db, table: s.TABLE_NAME, log, registry, draining: () => draining, hub, tokens, settings: s, checks })

await Promise.all([producer.connect([s.TOPIC_COMMANDS]), liveFeed.start(), jwks?.start()])
// Bodies are read whole, within BODY_READ_TIMEOUT_MS and BODY_LIMIT_BYTES, before the app sees them.
let server: ReturnType<typeof serveApi> | undefined
const bodyRefused = registry.counter('api_body_refused_total', 'Request bodies refused before the app: too slow (request_timeout), too large (payload_too_large), unreadable (bad_request)')
listenOrExit(() => {
  server = serveApi(request => app.handle(request), {
    port: s.PORT, hostname: s.HOST, maxBodyBytes: s.BODY_LIMIT_BYTES, bodyReadTimeoutMs: s.BODY_READ_TIMEOUT_MS, addresses: new ClientAddresses(s.TRUSTED_PROXIES),
    onRefused: code => bodyRefused.inc({ code })
  })
}, { host: s.HOST, port: s.PORT }, log)
log.info('api_listening', { host: s.HOST, port: s.PORT })

onShutdown(log, s.SHUTDOWN_GRACE_MS, [
  ['drain', async () => { draining = true; await Bun.sleep(s.DRAIN_DELAY_MS) }],
  // Open notification streams would hold the server open: end them, then let in-flight requests finish.
  ['live-feed', () => liveFeed.stop()],
  ['jwks', () => jwks?.stop()],
  ['streams', () => hub.closeAll()],
  ['http', async () => { await server?.stop() }],
  ['producer', () => producer.close()],
  ['dynamodb', () => db.destroy()]
])
