import { Type, type Static } from '@sinclair/typebox'
import { ConfigError } from '../shared/config/env.ts'
import { DynamoSettings, KafkaSettings, LogSettings } from '../shared/config/common.ts'

/**
 * Settings of one API process, from the environment. User tokens are checked with JWT_SECRET
 * (HS256), with an identity provider's keys at JWT_JWKS_URL (RS256/ES256), or both (while
 * moving from one to the other); at least one must be set.
 */
export const ApiSettings = Type.Object({
  ...KafkaSettings,
  ...DynamoSettings,
  ...LogSettings,
  PORT: Type.Integer({ default: 3000, minimum: 1, maximum: 65535, description: 'HTTP port on HOST' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'address to listen on' }),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'HS256 secret of user tokens (at least 32 characters); this or JWT_JWKS_URL is required' })),
  JWT_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'JWKS URL of an identity provider whose RS256/ES256 tokens are accepted' })),
  JWT_JWKS_REFRESH_MS: Type.Integer({ default: 600_000, minimum: 10_000, maximum: 86_400_000, description: 'how often the JWKS is fetched again (also fetched when a token names an unknown key, at most every 30 s)' }),
  JWT_ISSUER: Type.Optional(Type.String({ minLength: 1, description: 'when set, a token\'s iss must equal it' })),
  STREAM_TICKET_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'HMAC key of notification stream tickets, shared by every API process (unset: derived from JWT_SECRET)' })),
  STREAM_TICKET_TTL_S: Type.Integer({ default: 300, minimum: 10, maximum: 3600, description: 'lifetime of a notification stream ticket (it only opens a stream)' }),
  JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1, description: 'when set, a token\'s aud must contain it' })),
  AGENCY_SECRETS: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), Type.String({ minLength: 16 }),
    { description: 'JSON object of agency id to HMAC secret, e.g. {"demo":"…"}' }),
  AGENCY_SIGNATURE_TOLERANCE_S: Type.Integer({ default: 300, minimum: 10, maximum: 3600, description: 'largest gap between an agency signature\'s time t and now, either way; outside it the update is refused (401 signature_expired)' }),
  AGENCY_LEGACY_SIGNATURE: Type.Boolean({ default: false, description: 'also accept the old body-only X-Signature: sha256=<hex> (replayable; only while agencies move to the signed-time format)' }),
  AGENCY_UPDATE_TTL_HOURS: Type.Integer({ default: 24, minimum: 1, maximum: 720, description: 'how long an agency\'s updateId is remembered (a repeat inside it is answered 202 and produces nothing)' }),
  PRODUCE_DEADLINE_MS: Type.Integer({ default: 2000, minimum: 50, maximum: 30_000, description: 'time Kafka has to acknowledge a command before the API answers 503' }),
  PRODUCE_LINGER_MS: Type.Integer({ default: 2, minimum: 0, maximum: 1000, description: 'how long the first command of a batch waits for others' }),
  PRODUCE_MAX_BATCH: Type.Integer({ default: 1000, minimum: 1, maximum: 100_000, description: 'commands in one send at most' }),
  PRODUCE_MAX_IN_FLIGHT: Type.Integer({ default: 1, minimum: 1, maximum: 5, description: 'sends in flight (1 keeps send order across Kafka leader changes)' }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 65_536, minimum: 1024, maximum: 10_485_760, description: 'larger request bodies get 413' }),
  IDEMPOTENCY_TTL_HOURS: Type.Integer({ default: 24, minimum: 1, maximum: 720, description: 'how long an Idempotency-Key is remembered' }),
  SSE_HEARTBEAT_MS: Type.Integer({ default: 15_000, minimum: 1000, maximum: 120_000, description: 'comment line sent on idle notification streams' }),
  SSE_MAX_REPLAY: Type.Integer({ default: 500, minimum: 0, maximum: 10_000, description: 'most stored notifications a stream replays after Last-Event-ID' }),
  SSE_MAX_STREAMS_PER_USER: Type.Integer({ default: 5, minimum: 1, maximum: 100, description: 'open notification streams per user and process (the oldest is closed)' }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 15_000, minimum: 1000, maximum: 120_000, description: 'longest a SIGTERM shutdown may take' }),
  /** How long readiness reports "draining" before the server stops accepting: the load balancer's check interval × fall. */
  DRAIN_DELAY_MS: Type.Integer({ default: 1500, minimum: 0, maximum: 30_000, description: 'time readiness reports draining before the server stops accepting (load balancer check interval × fall)' })
})

/** What one variable cannot say: tokens need a secret or a key set; stream tickets a key. */
export function checkApiSettings (s: Static<typeof ApiSettings>): void {
  if (!s.JWT_SECRET && !s.JWT_JWKS_URL) throw new ConfigError('JWT_SECRET', 'an HS256 secret of at least 32 characters, or JWT_JWKS_URL set', undefined)
  if (!s.JWT_SECRET && !s.STREAM_TICKET_SECRET) throw new ConfigError('STREAM_TICKET_SECRET', 'a key of at least 32 characters when JWT_SECRET is unset', undefined)
}
