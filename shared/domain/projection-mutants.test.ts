import { expect, test } from 'bun:test'
import type { TripItem } from './items.ts'
import { projectTripForRole } from './projection.ts'
import { FakeTable, commandFactory } from './test-fixtures.ts'

// A case written to kill a mutant of projection.ts the other tests let live (test/mutation/run.ts).

test('a finished trip reads as finished, for every role', () => {
  const { cmd, nextId } = commandFactory()
  const table = new FakeTable()
  const T = nextId()
  table.run([cmd('trip.create', { tripId: T, name: 'Done' })])
  const trip = table.items.get(`TRIP#${T}`) as TripItem
  for (const role of ['owner', 'full', 'dates-and-places'] as const) {
    expect(projectTripForRole(trip, role).status).toBe('active')
    expect(projectTripForRole({ ...trip, status: 'finished' }, role).status).toBe('finished')
  }
})
