import { Type, type Static } from '@sinclair/typebox'
import { ConfigError } from '../shared/config/env.ts'
import { DynamoSettings, KafkaSettings, LogSettings } from '../shared/config/common.ts'
import { ClientAddresses } from './admission/client-address.ts'
import { jwksUrlAllowed } from './auth/jwks.ts'

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
  JWT_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'JWKS URL (https; http only for loopback) of an identity provider whose RS256/ES256 tokens are accepted; needs JWT_ISSUER and JWT_AUDIENCE' })),
  JWT_JWKS_REFRESH_MS: Type.Integer({ default: 600_000, minimum: 10_000, maximum: 86_400_000, description: 'how often the JWKS is fetched again (also fetched when a token names an unknown key, at most every 30 s)' }),
  JWT_ISSUER: Type.Optional(Type.String({ minLength: 1, description: 'a token\'s iss must equal it (required with JWT_JWKS_URL)' })),
  STREAM_TICKET_SECRET: Type.Optional(Type.String({ minLength: 32, description: 'HMAC key of notification stream tickets, shared by every API process (unset: derived from JWT_SECRET)' })),
  STREAM_TICKET_TTL_S: Type.Integer({ default: 300, minimum: 10, maximum: 3600, description: 'lifetime of a notification stream ticket (it only opens a stream)' }),
  JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1, description: 'a token\'s aud must contain it (required with JWT_JWKS_URL)' })),
  AGENCY_SECRETS: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), Type.String({ minLength: 16 }),
    { description: 'JSON object of agency id to HMAC secret, e.g. {"demo":"…"}' }),
  AGENCY_SIGNATURE_TOLERANCE_S: Type.Integer({ default: 300, minimum: 10, maximum: 3600, description: 'largest gap between an agency signature\'s time t and now, either way; outside it the update is refused (401 signature_expired)' }),
  AGENCY_LEGACY_SIGNATURE: Type.Boolean({ default: false, description: 'also accept the old body-only X-Signature: sha256=<hex> (replayable; only while agencies move to the signed-time format)' }),
  AGENCY_UPDATE_TTL_HOURS: Type.Integer({ default: 24, minimum: 1, maximum: 720, description: 'how long an agency\'s updateId is remembered (a repeat inside it is answered 202 and produces nothing)' }),
  PRODUCE_DEADLINE_MS: Type.Integer({ default: 2000, minimum: 50, maximum: 30_000, description: 'time Kafka has to acknowledge a command before the API answers 503' }),
  PRODUCE_CLOCK_SKEW_MS: Type.Integer({ default: 100, minimum: 0, maximum: 10_000, description: 'largest clock difference allowed between API and Kafka brokers: a command must be appended within PRODUCE_DEADLINE_MS minus this, or it is answered 503 and never applied (below PRODUCE_DEADLINE_MS)' }),
  PRODUCE_LINGER_MS: Type.Integer({ default: 2, minimum: 0, maximum: 1000, description: 'how long the first command of a batch waits for others' }),
  PRODUCE_MAX_BATCH: Type.Integer({ default: 1000, minimum: 1, maximum: 100_000, description: 'commands in one send at most' }),
  PRODUCE_MAX_IN_FLIGHT: Type.Integer({ default: 1, minimum: 1, maximum: 5, description: 'sends in flight (1 keeps send order across Kafka leader changes)' }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 65_536, minimum: 1024, maximum: 10_485_760, description: 'larger request bodies get 413' }),
  IDEMPOTENCY_TTL_HOURS: Type.Integer({ default: 24, minimum: 1, maximum: 720, description: 'how long an Idempotency-Key is remembered' }),
  SSE_HEARTBEAT_MS: Type.Integer({ default: 15_000, minimum: 1000, maximum: 120_000, description: 'comment line sent on idle notification streams' }),
  SSE_MAX_REPLAY: Type.Integer({ default: 500, minimum: 0, maximum: 10_000, description: 'most stored notifications a stream replays after Last-Event-ID' }),
  SSE_MAX_STREAMS_PER_USER: Type.Integer({ default: 5, minimum: 1, maximum: 100, description: 'open notification streams per user and process (the oldest is closed)' }),
  SSE_MAX_STREAMS: Type.Integer({ default: 2000, minimum: 1, maximum: 100_000, description: 'open notification streams per process; past it a new stream gets 503 streams_full with Retry-After' }),
  // Admission control (api/admission): per process; the README says how they add up across the fleet.
  RATE_USER_PER_S: Type.Number({ default: 10, exclusiveMinimum: 0, maximum: 100_000, description: 'tokens a second refilled in each user\'s bucket, per process (a read takes 1, a write RATE_WRITE_COST); past it 429 rate_limited' }),
  RATE_USER_BURST: Type.Integer({ default: 40, minimum: 1, maximum: 1_000_000, description: 'size of each user\'s bucket, per process' }),
  RATE_WRITE_COST: Type.Integer({ default: 4, minimum: 1, maximum: 1000, description: 'tokens a write (POST, PUT, PATCH, DELETE) takes from the user\'s bucket' }),
  RATE_AGENCY_PER_S: Type.Number({ default: 200, exclusiveMinimum: 0, maximum: 1_000_000, description: 'agency updates a second refilled in each agency\'s bucket, per process' }),
  RATE_AGENCY_BURST: Type.Integer({ default: 400, minimum: 1, maximum: 10_000_000, description: 'size of each agency\'s bucket, per process' }),
  RATE_TRACKED_KEYS: Type.Integer({ default: 100_000, minimum: 100, maximum: 10_000_000, description: 'most buckets kept per scope and process (least recently used dropped first; a dropped bucket comes back full)' }),
  BODY_READ_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100, maximum: 120_000, description: 'a request body not fully received by then gets 408 and its connection is closed, before any work' }),
  TRUSTED_PROXIES: Type.String({ default: '127.0.0.1,::1', description: 'comma-separated addresses or CIDR ranges of the load balancers whose X-Forwarded-For names the client' }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 15_000, minimum: 1000, maximum: 120_000, description: 'longest a SIGTERM shutdown may take' }),
  /** How long readiness reports "draining" before the server stops accepting: the load balancer's check interval × fall. */
  DRAIN_DELAY_MS: Type.Integer({ default: 1500, minimum: 0, maximum: 30_000, description: 'time readiness reports draining before the server stops accepting (load balancer check interval × fall)' })
})

/**
 * What one variable cannot say: tokens need a secret or a key set; stream tickets a key; a key set
 * comes over https, with the issuer and audience its tokens must name; trusted proxies parse.
 */
export function checkApiSettings (s: Static<typeof ApiSettings>): void {
  if (!s.JWT_SECRET && !s.JWT_JWKS_URL) throw new ConfigError('JWT_SECRET', 'an HS256 secret of at least 32 characters, or JWT_JWKS_URL set', undefined)
  if (!s.JWT_SECRET && !s.STREAM_TICKET_SECRET) throw new ConfigError('STREAM_TICKET_SECRET', 'a key of at least 32 characters when JWT_SECRET is unset', undefined)
  if (s.PRODUCE_CLOCK_SKEW_MS >= s.PRODUCE_DEADLINE_MS) throw new ConfigError('PRODUCE_CLOCK_SKEW_MS', 'an integer below PRODUCE_DEADLINE_MS', String(s.PRODUCE_CLOCK_SKEW_MS))
  if (s.JWT_JWKS_URL) {
    // A key set over plain http could be swapped on the way; a token of another issuer or audience
    // (another app of the same provider) must not open this API.
    if (!jwksUrlAllowed(s.JWT_JWKS_URL)) throw new ConfigError('JWT_JWKS_URL', 'an https:// URL (http:// only for a loopback host)', s.JWT_JWKS_URL)
    if (!s.JWT_ISSUER) throw new ConfigError('JWT_ISSUER', 'the identity provider\'s issuer (iss), required with JWT_JWKS_URL', undefined)
    if (!s.JWT_AUDIENCE) throw new ConfigError('JWT_AUDIENCE', 'this API\'s audience (aud), required with JWT_JWKS_URL', undefined)
  }
  try { new ClientAddresses(s.TRUSTED_PROXIES) } catch (err) { throw new ConfigError('TRUSTED_PROXIES', `comma-separated addresses or CIDR ranges (${(err as Error).message})`, s.TRUSTED_PROXIES) }
}
