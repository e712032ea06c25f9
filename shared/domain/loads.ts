import type { Command } from '../schemas/command.ts'
import type { FoldItem } from './items.ts'
import { isReservation, isTrip } from './items.ts'
import { reservationSk, settingsSk, shareSk, tripSk, unassignedTripId } from './keys.ts'

/**
 * What the updater must read before folding a user's commands. All reads
 * are by key (consistent) except the optional byTrip Query, because a GSI
 * lags the table and the fold must see the previous batch's writes.
 *
 * - `item`: GetItem/BatchGetItem of `U#<userId>` + `sk`.
 * - `trip`: the trip with everything it owns: TRIP#<tripId> by key, then
 *   (second round, see followUpKeys) each active member reservation and
 *   each share by key, as listed in the trip item's `members` and `shares`.
 * - `tripOfReservation`: the trip the stored reservation currently sits in
 *   (second round: TRIP#<reservation.tripId>), so moving or cancelling it
 *   updates that trip's span.
 */
export type Load =
  | { kind: 'item'; sk: string }
  | { kind: 'trip'; tripId: string }
  | { kind: 'tripOfReservation'; reservationId: string }

const item = (sk: string): Load => ({ kind: 'item', sk })

export function loadsFor(command: Command): Load[] {
  const unassigned = item(tripSk(unassignedTripId(command.userId)))
  switch (command.type) {
    case 'reservation.create': {
      const p = command.payload
      return [item(reservationSk(p.reservationId)), item(tripSk(p.tripId ?? unassignedTripId(command.userId)))]
    }
    case 'reservation.update': {
      const p = command.payload
      const loads: Load[] = [item(reservationSk(p.reservationId)), { kind: 'tripOfReservation', reservationId: p.reservationId }]
      if (p.patch.tripId === null) loads.push(unassigned)
      else if (p.patch.tripId !== undefined) loads.push(item(tripSk(p.patch.tripId)))
      return loads
    }
    case 'reservation.remove':
    case 'reservation.agency-update': {
      const id = command.payload.reservationId
      return [item(reservationSk(id)), { kind: 'tripOfReservation', reservationId: id }]
    }
    case 'trip.create':
      return [item(tripSk(command.payload.tripId))]
    case 'trip.update':
    case 'trip.finish':
      return [item(tripSk(command.payload.tripId)), { kind: 'trip', tripId: command.payload.tripId }]
    case 'trip.remove':
      return [item(tripSk(command.payload.tripId)), { kind: 'trip', tripId: command.payload.tripId }, unassigned]
    case 'trip.share.put':
    case 'trip.share.remove':
      return [item(tripSk(command.payload.tripId)), item(shareSk(command.payload.tripId, command.payload.granteeId))]
    case 'settings.put':
      return [item(settingsSk())]
  }
}

/**
 * Loads of a whole batch, deduplicated. `queryTrips` are the trips whose
 * non-active reservations (cancelled, finished) should also be fetched
 * with a byTrip Query, best effort (a GSI lags): trip.remove moves them to
 * Unassigned too when it sees them, and a replayed trip.finish finds the
 * reservations it finished (no longer members) to re-emit their events.
 */
export interface LoadPlan {
  keys: string[]
  trips: string[]
  reservationTrips: string[]
  queryTrips: string[]
}

export function planLoads(commands: readonly Command[]): LoadPlan {
  const keys = new Set<string>()
  const trips = new Set<string>()
  const reservationTrips = new Set<string>()
  const queryTrips = new Set<string>()
  for (const command of commands) {
    for (const load of loadsFor(command)) {
      if (load.kind === 'item') keys.add(load.sk)
      else if (load.kind === 'trip') trips.add(load.tripId)
      else reservationTrips.add(load.reservationId)
    }
    if (command.type === 'trip.remove' || command.type === 'trip.finish') queryTrips.add(command.payload.tripId)
  }
  return { keys: [...keys], trips: [...trips], reservationTrips: [...reservationTrips], queryTrips: [...queryTrips] }
}

/** Second-round keys, given what the first round loaded (absent keys are simply not in `items`). */
export function followUpKeys(plan: LoadPlan, items: ReadonlyMap<string, FoldItem>): string[] {
  const keys = new Set<string>()
  for (const tripId of plan.trips) {
    const trip = items.get(tripSk(tripId))
    if (!isTrip(trip)) continue
    for (const id of Object.keys(trip.members)) keys.add(reservationSk(id))
    for (const grantee of Object.keys(trip.shares)) keys.add(shareSk(tripId, grantee))
  }
  for (const id of plan.reservationTrips) {
    const reservation = items.get(reservationSk(id))
    if (isReservation(reservation)) keys.add(tripSk(reservation.tripId))
  }
  return [...keys].filter((k) => !items.has(k))
}
