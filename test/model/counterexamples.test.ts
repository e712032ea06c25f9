/**
 * Counterexamples the property tests found (model.property.test.ts), kept as fixed cases: each is
 * a command log, how its batches were cut and where the updater crashed, and the model's verdict.
 * The first eight were bugs of the fold on replay after a half-written batch (fixed in
 * shared/domain/fold.ts); the last pins a rule the model first had wrong (which check comes first).
 */
import { expect, test } from 'bun:test'
import type { Command } from '../../shared/schemas/command.ts'
import { reservationId, T0, tripId } from './commands.ts'
import { differences, runModel } from './oracle.ts'
import { BASE_OFFSET, runUpdater, type Attempt } from './updater-run.ts'

const R = reservationId(0, 0)
const T = tripId(0, 0)
const flight = { type: 'flight', title: 'AF 123', startsAt: '2030-02-01T08:00Z', endsAt: '2030-02-01T16:00Z', places: [{ name: 'Paris CDG' }] }

function log (...list: Array<[type: string, payload: Record<string, unknown>, acceptedAt?: number]>): Command[] {
  return list.map(([type, payload, at], n) => ({
    v: 1, id: `01JC${String(n).padStart(22, '0')}`, type, userId: 'alice', actorId: 'alice', acceptedAt: at ?? T0 + n * 1000, payload
  }) as Command)
}
const crash = (size: number, keep: (sk: string) => boolean): Attempt => ({ size, end: 'write-crash', rewind: 0, seed: 0, keep })
const oneByOne = (commands: Command[]): Attempt[] => commands.map(() => ({ size: 1, end: 'ok', rewind: 0, seed: 0 }))

async function check (commands: Command[], attempts: Attempt[], exactEvents = false) {
  const run = await runUpdater(commands, attempts)
  expect(differences(runModel(commands), run, { exactEvents })).toEqual([])
  return run
}

test('a create refused for a missing trip, then the same id created: a crash that wrote it still dead-letters the first on replay', async () => {
  const commands = log(['reservation.create', { reservationId: R, ...flight, tripId: T }], ['reservation.create', { reservationId: R, ...flight }])
  const run = await check(commands, [crash(2, sk => sk.startsWith('RES#'))])
  expect(run.deadLetters).toEqual([{ offset: BASE_OFFSET, code: 'trip_not_found' }])
})

test('an update of a reservation created later in the batch: the replay refuses it again (reservation_not_found)', async () => {
  const commands = log(['reservation.update', { reservationId: R, patch: { title: 'x' } }], ['reservation.create', { reservationId: R, ...flight }])
  const run = await check(commands, [crash(2, sk => sk.startsWith('RES#'))])
  expect(run.deadLetters).toEqual([{ offset: BASE_OFFSET, code: 'reservation_not_found' }])
})

test('a trip.update of a trip created later in the batch: the replay refuses it again (trip_not_found)', async () => {
  const commands = log(['trip.update', { tripId: T, patch: { name: 'x' } }], ['trip.create', { tripId: T, name: 'Lisbon' }])
  const run = await check(commands, [crash(2, sk => sk === `TRIP#${T}`)])
  expect(run.deadLetters).toEqual([{ offset: BASE_OFFSET, code: 'trip_not_found' }])
})

test('a trip.create of a trip that exists, then a rename of it: a crash that wrote the rename still dead-letters the create on replay', async () => {
  const commands = log(['trip.create', { tripId: T, name: 'Lisbon' }], ['trip.create', { tripId: T, name: 'Porto' }], ['trip.update', { tripId: T, patch: { name: 'Faro' } }])
  const run = await check(commands, [{ size: 1, end: 'ok', rewind: 0, seed: 0 }, crash(2, () => true)])
  expect(run.deadLetters).toEqual([{ offset: BASE_OFFSET + 1, code: 'trip_exists' }])
})

test('a reservation.create of an id that exists, then a change of it: a crash that wrote the change still dead-letters the create on replay', async () => {
  const commands = log(['reservation.create', { reservationId: R, ...flight }], ['reservation.create', { reservationId: R, ...flight, title: 'other' }], ['reservation.remove', { reservationId: R }])
  const run = await check(commands, [{ size: 1, end: 'ok', rewind: 0, seed: 0 }, crash(2, () => true)])
  expect(run.deadLetters).toEqual([{ offset: BASE_OFFSET + 1, code: 'reservation_exists' }])
})

test('trip.finish of the Unassigned trip before anything landed in it decides the same on a replay that finds it made', async () => {
  const commands = log(['trip.finish', { tripId: 'unassigned-alice' }], ['reservation.create', { reservationId: R, ...flight }])
  const run = await check(commands, [{ size: 2, end: 'uncommitted', rewind: 1, seed: 0 }])
  expect(run.deadLetters).toEqual([])
})

test('a half-written batch that left the Unassigned trip unwritten (its reservation removed since): the replay of the create makes it', async () => {
  const commands = log(['reservation.create', { reservationId: R, ...flight }], ['reservation.remove', { reservationId: R }])
  const run = await check(commands, [crash(2, sk => sk.startsWith('RES#'))])
  expect(run.table.has('U#alice|TRIP#unassigned-alice')).toBe(true)
})

test('a half-written batch that left the Unassigned trip unwritten (its reservation removed since): the replay of a move to it makes it', async () => {
  const commands = log(
    ['trip.create', { tripId: T, name: 'Lisbon' }],
    ['reservation.create', { reservationId: R, ...flight, tripId: T }],
    ['reservation.update', { reservationId: R, patch: { tripId: null } }],
    ['reservation.remove', { reservationId: R }]
  )
  const run = await check(commands, [crash(4, sk => sk !== 'TRIP#unassigned-alice')])
  expect(run.table.has('U#alice|TRIP#unassigned-alice')).toBe(true)
})

test('model rule (the model had it wrong): a create with bad times into a missing trip is refused for its times first, as the API checks', async () => {
  const commands = log(['reservation.create', { reservationId: R, ...flight, startsAt: '2030-02-01T18:00Z', tripId: T }])
  const run = await check(commands, oneByOne(commands), true)
  expect(run.deadLetters).toEqual([{ offset: BASE_OFFSET, code: 'invalid_times' }])
})

// Known limit, not fixed (deep: the fold would need each item's whole state as of any offset of the
// batch, where history keeps only trip and status): expected to fail until the fold decides it.
test.failing('an update refused for its times, then another update: a crash that wrote the second still dead-letters the first on replay', async () => {
  const commands = log(
    ['reservation.create', { reservationId: R, ...flight }],
    ['reservation.update', { reservationId: R, patch: { endsAt: '2030-02-01T07:00Z' } }],
    ['reservation.update', { reservationId: R, patch: { title: 'x' } }]
  )
  const run = await runUpdater(commands, [{ size: 1, end: 'ok', rewind: 0, seed: 0 }, crash(2, sk => sk.startsWith('RES#'))])
  expect(run.deadLetters).toEqual([{ offset: BASE_OFFSET + 1, code: 'invalid_times' }])
})

// Known limit, not fixed (found by the property tests; deep: the replayed move is skipped, and the
// trip it left is neither loaded nor derived again): the Unassigned trip keeps the span and the
// byEndDay entry of a reservation that moved out, until its next change. Expected to fail until fixed.
test.failing('a move written before a crash, its source trip not: the replay derives the source trip again', async () => {
  const commands = log(
    ['reservation.create', { reservationId: R, ...flight }],
    ['trip.create', { tripId: T, name: 'Lisbon' }],
    ['reservation.update', { reservationId: R, patch: { tripId: T } }]
  )
  await check(commands, [{ size: 2, end: 'ok', rewind: 0, seed: 0 }, crash(1, sk => sk.startsWith('RES#'))])
})
