import { Type } from '@sinclair/typebox'
import { DynamoSettings, KafkaSettings, LogSettings } from '../shared/config/common.ts'

export const ApiSettings = Type.Object({
  ...KafkaSettings,
  ...DynamoSettings,
  ...LogSettings,
  PORT: Type.Integer({ default: 3000, minimum: 1, maximum: 65535, description: 'HTTP port on HOST' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  JWT_SECRET: Type.String({ minLength: 32, description: 'HS256 secret of user tokens (at least 32 characters)' }),
  AGENCY_SECRETS: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), Type.String({ minLength: 16 }),
    { description: 'JSON object of agency id to HMAC secret, e.g. {"demo":"…"}' }),
  PRODUCE_DEADLINE_MS: Type.Integer({ default: 2000, minimum: 50, maximum: 30_000, description: 'time Kafka has to acknowledge a command before the API answers 503' }),
  PRODUCE_LINGER_MS: Type.Integer({ default: 2, minimum: 0, maximum: 1000 }),
  PRODUCE_MAX_BATCH: Type.Integer({ default: 1000, minimum: 1, maximum: 100_000 }),
  PRODUCE_MAX_IN_FLIGHT: Type.Integer({ default: 5, minimum: 1, maximum: 5 }),
  BODY_LIMIT_BYTES: Type.Integer({ default: 65_536, minimum: 1024, maximum: 10_485_760 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 15_000, minimum: 1000, maximum: 120_000 }),
  /** How long readiness reports "draining" before the server stops accepting: the load balancer's check interval × fall. */
  DRAIN_DELAY_MS: Type.Integer({ default: 1500, minimum: 0, maximum: 30_000 })
})
