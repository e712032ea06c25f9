import { expect, test } from 'bun:test'
import type { FoldItem, ReservationItem } from './items.ts'
import { emptyLiveIndex, nextLoads, planLoads, readLoads, type LoadIo, type UserLoad } from './loads.ts'
import { commandFactory, flight } from './test-fixtures.ts'

// Cases written to kill mutants of loads.ts that the other tests let live
// (test/mutation/run.ts); expectations worked out by hand from loads.ts's rules.

const { cmd, nextId } = commandFactory()

test('planLoads asks for the count each limit needs: active reservations for a reservation create, live trips for a trip create', () => {
  const at = (offset: number, c: ReturnType<typeof cmd>) => ({ offset, command: c.command })
  const create = planLoads([at(10, cmd('reservation.create', { reservationId: nextId(), ...flight }))])
  expect({ activeReservations: create.activeReservations, liveTrips: create.liveTrips }).toEqual({ activeReservations: true, liveTrips: false })
  const trip = planLoads([at(10, cmd('trip.create', { tripId: nextId(), name: 'Oslo' }))])
  expect({ activeReservations: trip.activeReservations, liveTrips: trip.liveTrips }).toEqual({ activeReservations: false, liveTrips: true })
})

test('nextLoads reads by key a row written at the batch’s first offset (by an earlier attempt of it), not one written just before', () => {
  const R = nextId()
  const plan = planLoads([{ offset: 60, command: cmd('reservation.remove', { reservationId: R }).command }])
  const index = emptyLiveIndex()
  index.requested.add(`RES#${R}`)
  const items = new Map<string, FoldItem>([[`RES#${R}`, { entity: 'reservation', tripId: 'T1' } as ReservationItem]])
  index.tripReservations.set('T1', [
    { sk: 'RES#AT', startsAt: 'a', endsAt: 'b', status: 'cancelled', lastOffset: 60 },
    { sk: 'RES#BEFORE', startsAt: 'a', endsAt: 'b', status: 'cancelled', lastOffset: 59 },
  ])
  expect(nextLoads(plan, items, index).keys.sort()).toEqual(['RES#AT', 'TRIP#T1'])
})

test('readLoads returns only once the whole live index query has landed, even when it is the slowest read', async () => {
  const pk = 'U#alice'
  const row = { pk, sk: 'RES#OLD', entity: 'reservation', tripId: 'T9', status: 'active', lsi1sk: 'R#T9#OLD', startsAt: 's', endsAt: 'e', lastOffset: 3 }
  const io: LoadIo = {
    getAll: async () => [],
    queryLive: async (_pk, prefix) => {
      if (prefix === '') await Bun.sleep(50) // slower than every get of the rounds
      return prefix === '' ? [row] : []
    },
    countLive: async () => 0,
  }
  const user: UserLoad = { userId: 'alice', commands: [{ offset: 5, command: cmd('reservation.create', { reservationId: nextId(), ...flight }).command }], items: new Map(), index: emptyLiveIndex() }
  await readLoads(io, [user])
  expect(user.index.activeReservations).toBe(1)
  expect(user.index.tripReservations.get('T9')).toHaveLength(1)
})
