import { Elysia } from 'elysia'
import { openapi } from '@elysiajs/openapi'
import { type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { tableReachable } from '../shared/dynamo/health.ts'
import { opsRoutes, type Check } from '../shared/http/ops.ts'
import { type Logger } from '../shared/log/logger.ts'
import { type Registry } from '../shared/metrics/registry.ts'
import { admission } from './admission/index.ts'
import { agencies } from './agencies/index.ts'
import { StreamTickets } from './auth/stream-ticket.ts'
import { TokenVerifier } from './auth/verifier.ts'
import { AgencyDedupe } from './agencies/dedupe.ts'
import { AgencyService } from './agencies/service.ts'
import { AgencyUpdateRecords } from './agencies/update-records.ts'
import { Commands, type CommandSink } from './commands.ts'
import { errorHandling } from './errors.ts'
import { Idempotency } from './idempotency.ts'
import { me } from './me/index.ts'
import { MeService } from './me/service.ts'
import { NotificationHub } from './notifications/hub.ts'
import { notifications } from './notifications/index.ts'
import { NotificationService } from './notifications/service.ts'
import { observability } from './observability.ts'
import { reservations } from './reservations/index.ts'
import { ReservationService } from './reservations/service.ts'
import { Store } from './store.ts'
import { trips } from './trips/index.ts'
import { TripService } from './trips/service.ts'

export interface ApiDeps {
  /** The process's one BatchingProducer (or anything with its send/isConnected). */
  producer: CommandSink & { isConnected (): boolean }
  db: DynamoDBDocumentClient
  table: string
  log: Logger
  registry: Registry
  draining: () => boolean
  /** Live notification fan-out; made here if not given. */
  hub?: NotificationHub
  /** Extra readiness checks (main.ts adds the live notification feed). */
  checks?: Record<string, Check>
  /** Checks user tokens; made from JWT_SECRET if not given (main.ts adds the JWKS). */
  tokens?: TokenVerifier
  settings: {
    TOPIC_COMMANDS: string
    JWT_SECRET?: string
    STREAM_TICKET_SECRET?: string
    STREAM_TICKET_TTL_S: number
    AGENCY_SECRETS: Record<string, string>
    AGENCY_SIGNATURE_TOLERANCE_S: number
    AGENCY_LEGACY_SIGNATURE: boolean
    AGENCY_UPDATE_TTL_HOURS: number
    BODY_LIMIT_BYTES: number
    PRODUCE_DEADLINE_MS: number
    IDEMPOTENCY_TTL_HOURS: number
    SSE_HEARTBEAT_MS: number
    SSE_MAX_REPLAY: number
    SSE_MAX_STREAMS_PER_USER: number
    SSE_MAX_STREAMS: number
    RATE_USER_PER_S: number
    RATE_USER_BURST: number
    RATE_WRITE_COST: number
    RATE_AGENCY_PER_S: number
    RATE_AGENCY_BURST: number
    RATE_TRACKED_KEYS: number
  }
}

/** The API: one Elysia instance per feature, composed here. */
export function createApp (d: ApiDeps) {
  const s = d.settings
  const store = new Store(d.db, d.table)
  const produceWait = d.registry.histogram('api_command_produce_seconds', 'Time one request waited for Kafka to acknowledge its command, by command type and outcome')
  const commands = new Commands(d.producer, s.TOPIC_COMMANDS, produceWait)
  const idem = new Idempotency(store, commands, { ttlS: s.IDEMPOTENCY_TTL_HOURS * 3600, leaseMs: s.PRODUCE_DEADLINE_MS + 1000 }, d.log)
  const agencyDedupe = new AgencyDedupe(new AgencyUpdateRecords(d.db, d.table), commands,
    { ttlS: s.AGENCY_UPDATE_TTL_HOURS * 3600, leaseMs: s.PRODUCE_DEADLINE_MS + 1000 }, d.log)
  const hub = d.hub ?? new NotificationHub(s.SSE_MAX_STREAMS_PER_USER, s.SSE_MAX_STREAMS)
  d.registry.gauge('api_sse_streams', 'Open notification streams', () => [[{}, hub.size]])
  const authOpts = { tokens: d.tokens ?? new TokenVerifier({ secret: s.JWT_SECRET }) }
  const ticketKey = s.STREAM_TICKET_SECRET ? { secret: s.STREAM_TICKET_SECRET } : s.JWT_SECRET ? { derivedFrom: s.JWT_SECRET } : undefined
  if (!ticketKey) throw new Error('stream tickets need STREAM_TICKET_SECRET or JWT_SECRET')
  const tickets = new StreamTickets(ticketKey, s.STREAM_TICKET_TTL_S)

  return new Elysia({ normalize: false })
    .use(errorHandling(d.log))
    .use(observability(d.registry, { bodyLimitBytes: s.BODY_LIMIT_BYTES }))
    .use(admission({
      registry: d.registry,
      log: d.log,
      user: { perS: s.RATE_USER_PER_S, burst: s.RATE_USER_BURST },
      agency: { perS: s.RATE_AGENCY_PER_S, burst: s.RATE_AGENCY_BURST },
      writeCost: s.RATE_WRITE_COST,
      maxKeys: s.RATE_TRACKED_KEYS
    }))
    .use(openapi({
      path: '/openapi',
      documentation: {
        info: { title: 'Road Warrior API', version: '1.0.0', description: 'Trips and reservations. Writes answer 202 once Kafka has the command; reads come from DynamoDB and show a change once the updater applied it (typically well under a second).' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        tags: [
          { name: 'reservations' }, { name: 'trips' }, { name: 'shares' }, { name: 'agencies' },
          { name: 'notifications' }, { name: 'me' }, { name: 'ops' }
        ]
      }
    }))
    .use(opsRoutes({
      registry: d.registry,
      draining: d.draining,
      checks: { kafka: () => d.producer.isConnected(), dynamodb: tableReachable(d.db, d.table), ...d.checks }
    }))
    .use(reservations(new ReservationService(store, commands, idem), authOpts))
    .use(trips(new TripService(store, commands, idem), authOpts))
    .use(agencies(new AgencyService(store, commands, agencyDedupe, { maxFutureMs: s.AGENCY_SIGNATURE_TOLERANCE_S * 1000 }), {
      secrets: new Map(Object.entries(s.AGENCY_SECRETS)),
      toleranceS: s.AGENCY_SIGNATURE_TOLERANCE_S,
      allowLegacy: s.AGENCY_LEGACY_SIGNATURE
    }))
    .use(notifications(new NotificationService(store, hub, { heartbeatMs: s.SSE_HEARTBEAT_MS, maxReplay: s.SSE_MAX_REPLAY }), { ...authOpts, tickets }))
    .use(me(new MeService(store, commands), authOpts))
}

export type App = ReturnType<typeof createApp>
