import { Type, type Static } from '@sinclair/typebox'
import { DynamoSettings, KafkaSettings, LogSettings } from '../shared/config/common.ts'

/**
 * Settings of one updater process (`bun run updater`), read from the environment. Every option
 * has its default here; the partition math lives in partitions.ts.
 */
export const UpdaterSettings = Type.Object({
  ...KafkaSettings,
  ...DynamoSettings,
  ...LogSettings,
  PORT: Type.Integer({ default: 3100, minimum: 1, maximum: 65535, description: 'health, readiness and metrics port on HOST' }),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'address to listen on' }),
  SHUTDOWN_GRACE_MS: Type.Integer({ default: 20_000, minimum: 1000, maximum: 120_000, description: 'longest a SIGTERM shutdown may take' }),
  UPDATER_INDEX: Type.Integer({ default: 0, minimum: 0, maximum: 9999, description: 'this updater’s index (a StatefulSet ordinal), below UPDATER_COUNT' }),
  UPDATER_COUNT: Type.Integer({ default: 1, minimum: 1, maximum: 10000, description: 'number of updaters sharing the command topic' }),
  UPDATER_PARTITIONS: Type.Optional(Type.String({ pattern: '^\\d+(,\\d+)*$', description: 'explicit comma-separated partition list; overrides UPDATER_INDEX/UPDATER_COUNT' })),
  UPDATER_GROUP_ID: Type.String({ default: 'updater', minLength: 1, description: 'consumer group whose committed offsets the updaters keep (never joined)' }),
  UPDATER_BATCH_MAX_MESSAGES: Type.Integer({ default: 500, minimum: 1, maximum: 100_000, description: 'most commands of one partition folded in one batch' }),
  UPDATER_BATCH_MAX_WAIT_MS: Type.Integer({ default: 20, minimum: 0, maximum: 10_000, description: 'how long a partition waits for more commands before folding a batch that is not full' }),
  UPDATER_FETCH_MAX_WAIT_MS: Type.Integer({ default: 200, minimum: 1, maximum: 10_000, description: 'how long the broker holds a fetch with no data' }),
  UPDATER_FETCH_MAX_BYTES_PER_PARTITION: Type.Integer({ default: 1_048_576, minimum: 1024, maximum: 52_428_800, description: 'fetch size per partition' }),
  UPDATER_WRITE_CONCURRENCY: Type.Integer({ default: 8, minimum: 1, maximum: 256, description: 'BatchWriteItem/BatchGetItem requests in flight per process' }),
  UPDATER_WRITE_MAX_ATTEMPTS: Type.Integer({ default: 8, minimum: 1, maximum: 100, description: 'attempts per DynamoDB request (throttling, UnprocessedItems, 5xx, timeouts) before the partition stalls' }),
  UPDATER_WRITE_BACKOFF_BASE_MS: Type.Integer({ default: 25, minimum: 1, maximum: 60_000, description: 'first retry delay cap; doubles per attempt, full jitter' }),
  UPDATER_WRITE_BACKOFF_MAX_MS: Type.Integer({ default: 2000, minimum: 1, maximum: 300_000, description: 'largest retry delay cap' }),
  UPDATER_DYNAMODB_REQUEST_TIMEOUT_MS: Type.Integer({ default: 3000, minimum: 100, maximum: 60_000, description: 'one DynamoDB request fails (and is retried) past this' }),
  UPDATER_BATCH_DEADLINE_MS: Type.Integer({ default: 60_000, minimum: 1000, maximum: 3_600_000, description: 'a batch (fold, writes, events, commit) not done by then is failed and retried: a hung call stalls the partition visibly instead of freezing it' }),
  UPDATER_STALL_RETRY_MS: Type.Integer({ default: 1000, minimum: 10, maximum: 600_000, description: 'pause before a stalled partition retries its batch in hand' }),
  UPDATER_LEASE_TTL_MS: Type.Integer({ default: 15_000, minimum: 500, maximum: 600_000, description: 'partition lease lifetime; renewed every quarter of it, writes stop after two thirds without renewal' }),
  UPDATER_FINISHER_INTERVAL_MS: Type.Integer({ default: 60_000, minimum: 0, maximum: 86_400_000, description: 'period of the ended-trips task (0: off)' }),
  UPDATER_FINISHER_LOOKBACK_DAYS: Type.Integer({ default: 3, minimum: 1, maximum: 365, description: 'byEndDay days read by the ended-trips task, today included' })
}, { additionalProperties: false })
export type UpdaterSettings = Static<typeof UpdaterSettings>
