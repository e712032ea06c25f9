import { expect, test } from 'bun:test'
import { endDayGsiPk, endDayGsiSk } from '../shared/domain/keys.ts'
import { testLogger } from '../test/support/logger.ts'
import { endedTrips, Finisher } from './finisher.ts'

const NOW = Date.UTC(2030, 5, 10, 12)
const trip = (userId: string, tripId: string, endsAt: string, extra: Record<string, unknown> = {}) => ({
  entity: 'trip', status: 'active', gsi4pk: endDayGsiPk(endsAt), gsi4sk: endDayGsiSk(endsAt, userId, tripId), ...extra
})
const T1 = '01JTRP'.padEnd(25, '0') + '1'
const T2 = '01JTRP'.padEnd(25, '0') + '2'

test('endedTrips: active trips whose end passed, nothing else', () => {
  const rows = [
    trip('alice', T1, '2030-06-10T11:00:00.000Z'),
    trip('bob', T2, '2030-06-10T13:00:00.000Z'), // not yet
    trip('carol', T1, '2030-06-09T10:00:00.000Z', { status: 'finished' }),
    { entity: 'reservation', gsi4sk: 'x' }
  ]
  expect(endedTrips(rows, new Date(NOW).toISOString())).toEqual([{ userId: 'alice', tripId: T1, endsAt: '2030-06-10T11:00:00.000Z' }])
})

test('Finisher: queries each day of the lookback bounded by now, sends trip.finish keyed by owned users, once', async () => {
  const queries: Array<[string, string | undefined]> = []
  const sent: Array<[string, string, string]> = []
  let n = 0
  const f = new Finisher({ commandTopic: 'cmds', lookbackDays: 2, resendAfterMs: 60_000 }, {
    queryIndex: async (index, day, skAtMost) => {
      queries.push([day, skAtMost])
      expect(index.name).toBe('byEndDay')
      return day === 'END#2030-06-10' ? [trip('alice', T1, '2030-06-10T11:00:00.000Z'), trip('mallory', T2, '2030-06-10T10:00:00.000Z')] : []
    },
    send: async (topic, key, value) => { sent.push([topic, key, value]) },
    owns: userId => userId === 'alice',
    newId: () => `01JCMD000000000000000000${String(n++).padStart(2, '0')}`,
    now: () => NOW,
    log: testLogger
  })
  expect(await f.tick()).toBe(1)
  expect(queries).toEqual([['END#2030-06-09', '2030-06-10T12:00:00.000Z#~'], ['END#2030-06-10', '2030-06-10T12:00:00.000Z#~']])
  expect(sent.length).toBe(1)
  const [topic, key, value] = sent[0]!
  expect([topic, key]).toEqual(['cmds', 'alice'])
  expect(JSON.parse(value)).toMatchObject({ type: 'trip.finish', userId: 'alice', actorId: 'system:finisher', acceptedAt: NOW, payload: { tripId: T1 } })
  expect(await f.tick()).toBe(0) // not again within resendAfterMs
})
