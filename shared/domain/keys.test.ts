import { expect, test } from 'bun:test'
import * as K from './keys.ts'

test('sort keys and partition key', () => {
  expect(K.userPk('alice')).toBe('U#alice')
  expect(K.userIdOf('U#alice')).toBe('alice')
  expect(K.userIdOf('G#alice')).toBeUndefined()
  expect(K.tripSk('T1')).toBe('TRIP#T1')
  expect(K.reservationSk('R1')).toBe('RES#R1')
  expect(K.shareSk('T1', 'bob')).toBe('SHARE#T1#bob')
  expect(K.notificationSk('N1')).toBe('NOTIF#N1')
  expect(K.notifiedSk('R1')).toBe('NOTIFIED#R1')
  expect(K.itemKey('alice', K.settingsSk())).toEqual({ pk: 'U#alice', sk: 'SETTINGS' })
  expect(K.profileSk()).toBe('PROFILE')
})

test('Unassigned trip id is derived from the user id', () => {
  expect(K.unassignedTripId('alice')).toBe('unassigned-alice')
  expect(K.isUnassignedTripId('unassigned-alice')).toBe(true)
  expect(K.isUnassignedTripId('01J0000000000000000000000')).toBe(false)
})

test('byTrip sort keys put the trip first, reservations by start, shares last', () => {
  const keys = [
    K.shareTripGsiSk('bob'),
    K.reservationTripGsiSk('2030-02-01T08:00:00.000Z', 'R2'),
    K.TRIP_GSI_SK,
    K.reservationTripGsiSk('2029-12-31T23:00:00.000Z', 'R9'),
  ]
  expect([...keys].sort()).toEqual([keys[2], keys[3], keys[1], keys[0]])
})

test('byEndDay keys', () => {
  expect(K.endDayGsiPk('2030-02-01T16:00:00.000Z')).toBe('END#2030-02-01')
  const sk = K.endDayGsiSk('2030-02-01T16:00:00.000Z', 'alice', 'T1')
  expect(K.parseEndDayGsiSk(sk)).toEqual({ endsAt: '2030-02-01T16:00:00.000Z', userId: 'alice', tripId: 'T1' })
  expect(K.parseEndDayGsiSk('nope')).toBeUndefined()
  expect(K.endDaysBetween(Date.UTC(2030, 0, 30, 23), Date.UTC(2030, 1, 1, 1))).toEqual(['END#2030-01-30', 'END#2030-01-31', 'END#2030-02-01'])
})

test('GSI names and attributes', () => {
  expect(K.GSI.byGrantee).toEqual({ name: 'byGrantee', pk: 'gsi1pk', sk: 'gsi1sk' })
  expect(K.GSI.byReservation).toEqual({ name: 'byReservation', pk: 'gsi2pk' })
  expect(K.GSI.byTrip.pk).toBe('gsi3pk')
  expect(K.GSI.byEndDay.pk).toBe('gsi4pk')
})

test('live local index keys: reservations by trip, trips, and a trip prefix that stops at the id', () => {
  expect(K.LSI.live).toEqual({ name: 'live', pk: 'pk', sk: 'lsi1sk' })
  expect(K.liveReservationLsiSk('T1', 'R1')).toBe('R#T1#R1')
  expect(K.liveTripLsiSk('T1')).toBe('T#T1')
  expect(K.tripReservationsLsiPrefix('T1')).toBe('R#T1#')
  expect(K.liveReservationLsiSk('T1', 'R1').startsWith(K.tripReservationsLsiPrefix('T1'))).toBe(true)
  expect(K.liveReservationLsiSk('T10', 'R1').startsWith(K.tripReservationsLsiPrefix('T1'))).toBe(false)
  expect(K.liveReservationLsiSk('T1', 'R1').startsWith(K.LIVE_RESERVATIONS_PREFIX)).toBe(true)
  expect(K.liveTripLsiSk('T1').startsWith(K.LIVE_TRIPS_PREFIX)).toBe(true)
})
