import { homedir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { HAPROXY_LIMITS } from '../haproxy/config.ts'

const port = (def: number, description: string) => Type.Integer({ default: def, minimum: 1024, maximum: 65535, description })

/** Settings of the local stack (`npm start`, `npm test`); each role has its own settings on top. */
export const StackSettings = Type.Object({
  STACK_DATA_DIR: Type.String({ default: '.data', minLength: 1, description: 'folder for the stack’s data, logs and local.env' }),
  MAVEN_REPO: Type.String({ default: join(homedir(), '.cache', 'road-warrior', 'm2'), minLength: 1, description: 'Maven local repository for Kafka’s jars' }),
  KAFKA_PORT: port(9092, 'Kafka client port on 127.0.0.1'),
  KAFKA_CONTROLLER_PORT: port(9093, 'Kafka KRaft controller port on 127.0.0.1'),
  KAFKA_HEAP_MB: Type.Integer({ default: 512, minimum: 256, maximum: 8192, description: 'the local broker’s Java heap' }),
  DYNAMODB_PORT: port(8000, 'dynalite port on 127.0.0.1'),
  HAPROXY_PORT: port(8080, 'the API’s public port (HAProxy) on 127.0.0.1'),
  HAPROXY_STATS_PORT: port(8404, 'HAProxy stats page port on 127.0.0.1'),
  HAPROXY_CONN_PER_IP: Type.Integer({ default: HAPROXY_LIMITS.connPerIp, minimum: 1, maximum: 100_000, description: 'connections one client address may hold open through HAProxy (more are refused)' }),
  HAPROXY_CONN_RATE_PER_IP: Type.Integer({ default: HAPROXY_LIMITS.connRatePerIp, minimum: 1, maximum: 1_000_000, description: 'new connections one client address may open per 10 s' }),
  HAPROXY_REQ_RATE_PER_IP: Type.Integer({ default: HAPROXY_LIMITS.reqRatePerIp, minimum: 1, maximum: 10_000_000, description: 'requests one client address may send per 10 s (past it HAProxy answers 429)' }),
  HAPROXY_REQUEST_SLOTS: Type.Integer({ default: HAPROXY_LIMITS.requestSlots, minimum: 1, maximum: 100_000, description: 'requests in progress per API process (more wait in HAProxy\'s queue up to 2 s)' }),
  HAPROXY_STREAM_SLOTS: Type.Integer({ default: HAPROXY_LIMITS.streamSlots, minimum: 1, maximum: 100_000, description: 'notification streams per API process, in their own backend (never taking request slots)' }),
  API_BASE_PORT: port(3001, 'first API process port; the next ones follow'),
  UPDATER_BASE_PORT: port(3101, 'first updater health port'),
  NOTIFIER_BASE_PORT: port(3201, 'first notifier health port'),
  API_COUNT: Type.Integer({ default: 2, minimum: 1, maximum: 32, description: 'API processes behind HAProxy' }),
  UPDATER_COUNT: Type.Integer({ default: 2, minimum: 1, maximum: 64, description: 'updater processes (each owns COMMAND_PARTITIONS / UPDATER_COUNT partitions)' }),
  NOTIFIER_COUNT: Type.Integer({ default: 1, minimum: 0, maximum: 64, description: 'notifier processes' }),
  COMMAND_PARTITIONS: Type.Integer({ default: 12, minimum: 1, maximum: 1000, description: 'partitions of the command topic the stack provisions' }),
  LOG_LEVEL: Type.String({ default: 'info', description: 'log level passed to the roles' })
})
