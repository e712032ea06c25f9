import { describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { KafkaSettings } from '../config/common.ts'
import { loadEnv } from '../config/env.ts'
import { brokers, stackEnv, uniq } from '../../test/support/stack.ts'
import { testLogger } from '../../test/support/logger.ts'
import { deadLetterTopic, describeTopic, ensureTopics, topicSpecs } from './topics.ts'

describe('topic provisioning (real broker)', () => {
  const settings = loadEnv(Type.Object(KafkaSettings), stackEnv())

  test('the stack provisioned the topics of DESIGN.md with their partitions and configs', async () => {
    const commands = await describeTopic(brokers(), settings.TOPIC_COMMANDS)
    expect(commands.partitions).toBe(settings.COMMAND_PARTITIONS)
    expect(commands.configs['cleanup.policy']).toBe('delete')
    expect(Number(commands.configs['retention.ms'])).toBe(settings.COMMAND_RETENTION_DAYS * 86_400_000)
    expect(commands.configs['message.timestamp.type']).toBe('LogAppendTime')

    const status = await describeTopic(brokers(), settings.TOPIC_STATUS)
    expect(status.partitions).toBe(12)
    expect(status.configs['cleanup.policy']).toBe('compact')

    const notifications = await describeTopic(brokers(), settings.TOPIC_NOTIFICATIONS)
    expect(notifications.partitions).toBe(12)
    expect(notifications.configs['cleanup.policy']).toBe('delete')

    for (const dlq of [deadLetterTopic(settings.TOPIC_COMMANDS, 'updater'), deadLetterTopic(settings.TOPIC_STATUS, 'notifier')]) {
      const d = await describeTopic(brokers(), dlq)
      expect(d.partitions).toBeGreaterThanOrEqual(1)
      expect(d.configs['cleanup.policy']).toBe('delete')
    }
  })

  test('provisioning is idempotent and brings changed configs back to the spec', async () => {
    const base = uniq('prov')
    const specs = topicSpecs({ ...settings, TOPIC_COMMANDS: `${base}-cmd`, TOPIC_STATUS: `${base}-status`, TOPIC_NOTIFICATIONS: `${base}-notif`, COMMAND_PARTITIONS: 4 })
    await ensureTopics(brokers(), specs, testLogger)
    const changed = specs.map(s => s.name === `${base}-status` ? { ...s, configs: { ...s.configs, 'min.cleanable.dirty.ratio': '0.1' } } : s)
    await ensureTopics(brokers(), changed, testLogger)
    await ensureTopics(brokers(), changed, testLogger)
    const status = await describeTopic(brokers(), `${base}-status`)
    expect(status.configs['cleanup.policy']).toBe('compact')
    expect(status.configs['min.cleanable.dirty.ratio']).toBe('0.1')
    expect((await describeTopic(brokers(), `${base}-cmd`)).partitions).toBe(4)
  })

  test('provisioning moves an existing command topic to the broker\'s append time', async () => {
    const name = uniq('prov-cmd-old')
    await ensureTopics(brokers(), [{ name, partitions: 1, replicationFactor: 1, configs: { 'message.timestamp.type': 'CreateTime' } }], testLogger)
    expect((await describeTopic(brokers(), name)).configs['message.timestamp.type']).toBe('CreateTime')
    const [spec] = topicSpecs({ ...settings, TOPIC_COMMANDS: name, COMMAND_PARTITIONS: 1 })
    await ensureTopics(brokers(), [spec!], testLogger)
    expect((await describeTopic(brokers(), name)).configs['message.timestamp.type']).toBe('LogAppendTime')
  })
})
