import { Type } from '@sinclair/typebox'

/**
 * Settings every role shares. Production defaults point at nothing local: the local stack
 * (infra/stack) sets KAFKA_BROKERS, DYNAMODB_ENDPOINT and the rest in the roles' environment.
 */
export const KafkaSettings = {
  KAFKA_BROKERS: Type.String({ minLength: 3, pattern: '^[^,\\s]+:\\d+(,[^,\\s]+:\\d+)*$', description: 'comma-separated host:port list of Kafka brokers' }),
  KAFKA_CLIENT_ID: Type.String({ default: 'road-warrior', minLength: 1, description: 'client id prefix seen by the brokers' }),
  TOPIC_COMMANDS: Type.String({ default: 'reservation-commands', minLength: 1, description: 'command topic (key: owner user id)' }),
  TOPIC_STATUS: Type.String({ default: 'reservation-status', minLength: 1, description: 'compacted status topic (key: reservation id)' }),
  TOPIC_NOTIFICATIONS: Type.String({ default: 'notifications', minLength: 1, description: 'live notifications topic (key: user id)' }),
  COMMAND_PARTITIONS: Type.Integer({ default: 12, minimum: 1, maximum: 10000, description: 'partitions of the command topic' }),
  STATUS_PARTITIONS: Type.Integer({ default: 12, minimum: 1, maximum: 10000, description: 'partitions of the status topic' }),
  NOTIFICATION_PARTITIONS: Type.Integer({ default: 12, minimum: 1, maximum: 10000, description: 'partitions of the notifications topic' }),
  KAFKA_REPLICATION_FACTOR: Type.Integer({ default: 3, minimum: 1, maximum: 16, description: 'replication factor of created topics (1 locally)' }),
  COMMAND_RETENTION_DAYS: Type.Integer({ default: 7, minimum: 1, maximum: 3650, description: 'retention of the command topic' })
}

export const DynamoSettings = {
  DYNAMODB_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://', description: 'DynamoDB endpoint URL (unset: the AWS regional endpoint)' })),
  AWS_REGION: Type.String({ default: 'eu-west-1', minLength: 1, description: 'AWS region of the table' }),
  TABLE_NAME: Type.String({ default: 'road-warrior', minLength: 3, maxLength: 255, pattern: '^[A-Za-z0-9_.-]+$', description: 'the single DynamoDB table' })
}

export const LogSettings = {
  LOG_LEVEL: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], { default: 'info', description: 'one of debug, info, warn, error' })
}
