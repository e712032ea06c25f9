import { Type } from '@sinclair/typebox'
import { DynamoSettings, KafkaSettings, LogSettings } from '../shared/config/common.ts'

export const UpdaterSettings = Type.Object({
  ...KafkaSettings,
  ...DynamoSettings,
  ...LogSettings,
  PORT: Type.Integer({ default: 3100, minimum: 1, maximum: 65535, description: 'health, readiness and metrics port on HOST' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 20_000, minimum: 1000, maximum: 120_000 })
})
