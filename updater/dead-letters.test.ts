import { expect, test } from 'bun:test'
import { deadLetter } from './dead-letters.ts'

test('a dead letter keeps the original key and bytes and names its origin and reason', () => {
  const d = deadLetter({ topic: 'cmds', partition: 3, offset: 42 }, Buffer.from('alice'), Buffer.from('{oops'), 'poison', 'not JSON: bad')
  expect(d.key).toBe('alice')
  expect(d.value.toString()).toBe('{oops')
  expect(d.headers).toEqual({
    'dlq-reason': 'not JSON: bad', 'dlq-code': 'poison', 'dlq-origin-topic': 'cmds',
    'dlq-origin-partition': '3', 'dlq-origin-offset': '42', 'dlq-consumer': 'updater'
  })
})

test('no key, no value, a command id, a long reason', () => {
  const d = deadLetter({ topic: 't', partition: 0, offset: 0 }, null, null, 'reservation_not_found', 'x'.repeat(5000), 'CMD')
  expect(d.key).toBe('')
  expect(d.value.length).toBe(0)
  expect(d.headers['dlq-reason']!.length).toBe(1000)
  expect(d.headers['dlq-command-id']).toBe('CMD')
})
