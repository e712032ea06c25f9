/**
 * A deliberately naive reference model of the domain, for property tests of the real fold and
 * updater (issue 18). Written from the README (Reads after writes, Limits, Agency updates), the
 * API's schemas (shared/schemas) and the item and status-event docs, NOT from shared/domain/fold.ts:
 * plain objects, commands applied one by one in offset order, no batches, no offsets on items, no
 * DynamoDB shapes. It answers what a reader sees (the GET routes' views), which commands are
 * refused with which code, and the notifiable change each command makes to each reservation.
 *
 * Rules chosen where the README is silent are marked MODEL CHOICE; a disagreement with the fold
 * there is a question for the spec, not necessarily a bug.
 */
import { LIMIT_CODES, LIMITS } from '../../shared/domain/limits.ts'
import type { RejectCode } from '../../shared/domain/rejections.ts'
import type { Command } from '../../shared/schemas/command.ts'
import { checkAgencyUpdate, type Place, type Price, type ReservationType } from '../../shared/schemas/reservation.ts'
import type { ReservationStatus, StatusChange } from '../../shared/schemas/status-event.ts'
import type { ShareRole } from '../../shared/schemas/trip.ts'
import { normalizeInstant, parseInstant } from '../../shared/schemas/times.ts'

export const UNASSIGNED_NAME = 'Unassigned'
const unassignedOf = (userId: string) => `unassigned-${userId}`

export interface MReservation {
  id: string
  tripId: string
  type: ReservationType
  title: string
  startsAt: string
  endsAt: string
  places: Place[]
  trackingRef?: string
  agencyId?: string
  price?: Price
  notes?: string
  status: ReservationStatus
  version: number
  createdAt: number
  updatedAt: number
  /** Epoch ms of the last agency update applied with an occurredAt. */
  agencyMark?: number
  createdBy: string
}

export interface MTrip {
  id: string
  name: string
  notes?: string
  unassigned: boolean
  /** A trip.finish was applied (the trip shows finished while it has no active reservation). */
  finishApplied: boolean
  shares: Map<string, ShareRole>
  version: number
  removed: boolean
  createdBy?: string
}

export interface MSettings { webhook?: { url: string, secret: string }, language?: string, timeZone?: string }

export interface MUser {
  reservations: Map<string, MReservation>
  trips: Map<string, MTrip>
  settings?: MSettings
}

/** The fields a status event carries as `current`: what a user is told about. */
export interface Notified { status: ReservationStatus, startsAt: string, endsAt: string, title: string, type: ReservationType, places: Place[] }

export interface MChange { userId: string, reservationId: string, offset: number, change: StatusChange, current: Notified }
export type Outcome = { kind: 'applied' } | { kind: 'skipped' } | { kind: 'refused', code: RejectCode }

const notified = (r: MReservation): Notified => ({ status: r.status, startsAt: r.startsAt, endsAt: r.endsAt, title: r.title, type: r.type, places: structuredClone(r.places) })
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/** README's list of changes users hear of (created … reinstated); notes, price, tracking ref and trip moves are not news. */
function changeKind (before: Notified | undefined, after: Notified): StatusChange | undefined {
  if (!before) return after.status === 'removed' ? undefined : 'created'
  if (before.status !== after.status) return after.status === 'active' ? 'reinstated' : after.status
  if (after.status === 'removed') return undefined
  if (before.startsAt !== after.startsAt || before.endsAt !== after.endsAt) return 'rescheduled'
  if (before.title !== after.title || before.type !== after.type || !same(before.places, after.places)) return 'updated'
  return undefined
}

class Refused extends Error { constructor (readonly code: RejectCode) { super(code) } }
const refuse = (code: RejectCode): never => { throw new Refused(code) }

/** Times as stored and shown: UTC with milliseconds; an end before the start is refused. */
function times (startsAt: string, endsAt: string): { startsAt: string, endsAt: string } {
  const s = normalizeInstant(startsAt)
  const e = normalizeInstant(endsAt)
  if (s === undefined || e === undefined || e < s) refuse('invalid_times')
  return { startsAt: s!, endsAt: e! }
}

export class DomainModel {
  readonly users = new Map<string, MUser>()
  readonly outcomes = new Map<number, Outcome>()
  readonly changes: MChange[] = []
  /** Offsets at which each item changed, by `R:<id>` / `T:<id>` (for the oracle's known-limit test). */
  readonly touched = new Map<string, number[]>()
  private offset = 0

  user (userId: string): MUser {
    let u = this.users.get(userId)
    if (!u) { u = { reservations: new Map(), trips: new Map() }; this.users.set(userId, u) }
    return u
  }

  apply (offset: number, c: Command): Outcome {
    const u = this.user(c.userId)
    this.offset = offset
    const before = new Map([...u.reservations].map(([id, r]) => [id, notified(r)]))
    let outcome: Outcome
    try {
      outcome = this.run(u, c) ? { kind: 'applied' } : { kind: 'skipped' }
    } catch (e) {
      if (!(e instanceof Refused)) throw e
      outcome = { kind: 'refused', code: e.code }
    }
    this.outcomes.set(offset, outcome)
    for (const [id, r] of u.reservations) {
      const kind = changeKind(before.get(id), notified(r))
      if (kind) this.changes.push({ userId: c.userId, reservationId: id, offset, change: kind, current: notified(r) })
    }
    return outcome
  }

  /** Applies one command to a copy-free state; false when it is a repeat to skip. Throws Refused. */
  private run (u: MUser, c: Command): boolean {
    const at = c.acceptedAt
    const ownTrip = (tripId: string): MTrip => {
      const t = u.trips.get(tripId)
      if (t && !t.removed) return t
      // The Unassigned trip exists for every user: created the first time something lands in it.
      if (tripId === unassignedOf(c.userId)) return this.unassigned(u, c.userId)
      return refuse('trip_not_found')
    }
    const liveIn = (tripId: string) => [...u.reservations.values()].filter(r => r.status !== 'removed' && r.tripId === tripId)
    const touch = (x: { id: string, version: number, updatedAt?: number }) => {
      x.version++
      if ('updatedAt' in x) x.updatedAt = at
      const key = `${'updatedAt' in x ? 'R' : 'T'}:${x.id}`
      this.touched.set(key, [...(this.touched.get(key) ?? []), this.offset])
    }
    switch (c.type) {
      case 'reservation.create': {
        const p = c.payload
        const existing = u.reservations.get(p.reservationId)
        // The same create sent again (an idempotent retry) is no conflict.
        if (existing) { if (existing.createdBy === c.id) return false; refuse('reservation_exists') }
        // Times first, then the trip: the order the API checks them in (reservations/service.ts).
        const t = times(p.startsAt, p.endsAt)
        const tripId = p.tripId ?? unassignedOf(c.userId)
        if (tripId.startsWith('unassigned-') && tripId !== unassignedOf(c.userId)) refuse('trip_not_found')
        if (!tripId.startsWith('unassigned-')) ownTrip(tripId)
        if (liveIn(tripId).length >= LIMITS.reservationsPerTrip) refuse(LIMIT_CODES.reservationsPerTrip)
        if ([...u.reservations.values()].filter(r => r.status === 'active').length >= LIMITS.activeReservationsPerUser) refuse(LIMIT_CODES.activeReservationsPerUser)
        ownTrip(tripId)
        u.reservations.set(p.reservationId, {
          id: p.reservationId, tripId, type: p.type, title: p.title, ...t, places: structuredClone(p.places),
          ...(p.trackingRef !== undefined ? { trackingRef: p.trackingRef } : {}),
          ...(p.agencyId !== undefined ? { agencyId: p.agencyId } : {}),
          ...(p.price !== undefined ? { price: structuredClone(p.price) } : {}),
          ...(p.notes !== undefined ? { notes: p.notes } : {}),
          status: 'active', version: 1, createdAt: at, updatedAt: at, createdBy: c.id
        })
        return true
      }
      case 'reservation.update': {
        const p = c.payload
        const r = u.reservations.get(p.reservationId) ?? refuse('reservation_not_found')
        if (r.status === 'removed') refuse('reservation_removed')
        const patch = p.patch
        const t = times(patch.startsAt ?? r.startsAt, patch.endsAt ?? r.endsAt)
        const target = patch.tripId === undefined ? r.tripId : (patch.tripId ?? unassignedOf(c.userId))
        if (target.startsWith('unassigned-') && target !== unassignedOf(c.userId)) refuse('trip_not_found')
        if (!target.startsWith('unassigned-')) ownTrip(target)
        if (target !== r.tripId && liveIn(target).length >= LIMITS.reservationsPerTrip) refuse(LIMIT_CODES.reservationsPerTrip)
        ownTrip(target)
        r.tripId = target
        Object.assign(r, t)
        if (patch.type !== undefined) r.type = patch.type
        if (patch.title !== undefined) r.title = patch.title
        if (patch.places !== undefined) r.places = structuredClone(patch.places)
        for (const f of ['trackingRef', 'agencyId', 'price', 'notes'] as const) {
          const v = patch[f]
          if (v === null) delete r[f]
          else if (v !== undefined) (r as unknown as Record<string, unknown>)[f] = structuredClone(v)
        }
        touch(r)
        return true
      }
      case 'reservation.remove': {
        const r = u.reservations.get(c.payload.reservationId) ?? refuse('reservation_not_found')
        if (r.status === 'removed') refuse('reservation_removed')
        r.status = 'removed'
        touch(r)
        return true
      }
      case 'reservation.agency-update': {
        const p = c.payload
        // Body rules depend on the command alone: refused whatever the reservation.
        if (checkAgencyUpdate(p)) refuse('invalid_agency_update')
        const r = u.reservations.get(p.reservationId) ?? refuse('reservation_not_found')
        if (r.status === 'removed') refuse('reservation_removed')
        if (r.agencyId !== p.agencyId) refuse('agency_mismatch')
        // Ordered by occurredAt: not later than the last one applied (equal included) changes nothing.
        const occurred = p.occurredAt === undefined ? undefined : parseInstant(p.occurredAt)!
        if (occurred !== undefined && r.agencyMark !== undefined && occurred <= r.agencyMark) return false
        if (p.change === 'cancelled') r.status = 'cancelled'
        if (p.change === 'rescheduled') {
          Object.assign(r, times(p.startsAt ?? r.startsAt, p.endsAt ?? r.endsAt))
          // A new itinerary reinstates a cancelled reservation, and a finished one (MODEL CHOICE, as the fold documents it).
          r.status = 'active'
        }
        if (p.change === 'updated') {
          const d = p.details!
          if (d.title !== undefined) r.title = d.title
          if (d.places !== undefined) r.places = structuredClone(d.places)
          if (d.notes !== undefined) r.notes = d.notes
        }
        if (occurred !== undefined) r.agencyMark = occurred
        touch(r)
        return true
      }
      case 'trip.create': {
        const p = c.payload
        const existing = u.trips.get(p.tripId)
        // MODEL CHOICE: a removed trip's id stays taken; the same create sent again is skipped.
        if (existing) { if (existing.createdBy === c.id) return false; refuse('trip_exists') }
        if ([...u.trips.values()].filter(t => !t.removed && !t.unassigned).length >= LIMITS.tripsPerUser) refuse(LIMIT_CODES.tripsPerUser)
        u.trips.set(p.tripId, { id: p.tripId, name: p.name, ...(p.notes !== undefined ? { notes: p.notes } : {}), unassigned: false, finishApplied: false, shares: new Map(), version: 1, removed: false, createdBy: c.id })
        return true
      }
      case 'trip.update': {
        const p = c.payload
        if (p.tripId.startsWith('unassigned-')) refuse('trip_unassigned')
        const t = u.trips.get(p.tripId)
        if (!t || t.removed) refuse('trip_not_found')
        if (p.patch.name !== undefined) t!.name = p.patch.name
        if (p.patch.notes === null) delete t!.notes
        else if (p.patch.notes !== undefined) t!.notes = p.patch.notes
        touch(t!)
        return true
      }
      case 'trip.remove': {
        const p = c.payload
        if (p.tripId.startsWith('unassigned-')) refuse('trip_unassigned')
        const t = u.trips.get(p.tripId)
        if (!t || t.removed) refuse('trip_not_found')
        const moving = liveIn(p.tripId)
        if (moving.length && moving.length + liveIn(unassignedOf(c.userId)).length > LIMITS.reservationsPerTrip) refuse(LIMIT_CODES.reservationsPerTrip)
        // Its reservations (cancelled and finished ones too) move to the Unassigned trip.
        if (moving.length) this.unassigned(u, c.userId)
        for (const r of moving) { r.tripId = unassignedOf(c.userId); touch(r) }
        t!.removed = true
        t!.shares.clear()
        touch(t!)
        return true
      }
      case 'trip.share.put':
      case 'trip.share.remove': {
        const p = c.payload
        if (p.tripId.startsWith('unassigned-')) refuse('trip_unassigned')
        if (c.type === 'trip.share.put' && p.granteeId === c.userId) refuse('share_self')
        const t = u.trips.get(p.tripId)
        if (!t || t.removed) refuse('trip_not_found')
        if (c.type === 'trip.share.put') {
          if (!t!.shares.has(p.granteeId) && t!.shares.size >= LIMITS.sharesPerTrip) refuse(LIMIT_CODES.sharesPerTrip)
          t!.shares.set(p.granteeId, c.payload.role)
        } else {
          if (!t!.shares.has(p.granteeId)) refuse('share_not_found')
          t!.shares.delete(p.granteeId)
        }
        touch(t!)
        return true
      }
      case 'trip.finish': {
        // The user's Unassigned trip always exists (made on demand); another user's is not theirs.
        const t = c.payload.tripId === unassignedOf(c.userId) ? this.unassigned(u, c.userId) : u.trips.get(c.payload.tripId)
        if (!t || t.removed) refuse('trip_not_found')
        // Reservations that have ended by the command's time finish; later ones keep the trip active.
        for (const r of liveIn(t!.id)) if (r.status === 'active' && parseInstant(r.endsAt)! <= at) { r.status = 'finished'; touch(r) }
        if (!t!.unassigned) t!.finishApplied = true
        touch(t!)
        return true
      }
      case 'settings.put': {
        const p = c.payload
        u.settings = structuredClone({ ...(p.webhook ? { webhook: p.webhook } : {}), ...(p.language ? { language: p.language } : {}), ...(p.timeZone ? { timeZone: p.timeZone } : {}) })
        return true
      }
    }
  }

  private unassigned (u: MUser, userId: string): MTrip {
    const id = unassignedOf(userId)
    let t = u.trips.get(id)
    if (!t) { t = { id, name: UNASSIGNED_NAME, unassigned: true, finishApplied: false, shares: new Map(), version: 1, removed: false }; u.trips.set(id, t) }
    return t
  }
}

/** Everything a reader of one user's data can see, in the API's view shapes. */
export interface UserViews {
  /** GET /v1/reservations/{id} for each live reservation (removed ones answer 404). */
  reservations: Record<string, unknown>
  /** GET /v1/trips/{id} for each live owned trip: the trip and its reservation ids by start. */
  trips: Record<string, { trip: unknown, reservationIds: string[] }>
  /** Trips shared with this user (GET /v1/trips, shared part): `owner/trip` → role and name. */
  sharedWithMe: Record<string, { role: ShareRole, tripName: string }>
  /** GET /v1/me/settings (the webhook's secret included here: the view hides it, the record holds it). */
  settings?: MSettings
  /** The ids an agency update finds (byReservation) and the rows the API's limit counts read (`live` index). */
  findable: string[]
  liveRows: string[]
  /** Trips the ended-trips task finds (byEndDay): `END#day tripId`. */
  endDays: string[]
}

const drop = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

export function modelViews (m: DomainModel, userIds: readonly string[]): Map<string, UserViews> {
  const out = new Map<string, UserViews>()
  for (const userId of userIds) out.set(userId, { reservations: {}, trips: {}, sharedWithMe: {}, findable: [], liveRows: [], endDays: [] })
  for (const userId of userIds) {
    const v = out.get(userId)!
    const u = m.users.get(userId)
    if (!u) continue
    const live = [...u.reservations.values()].filter(r => r.status !== 'removed')
    for (const r of live) {
      v.reservations[r.id] = drop({
        id: r.id, tripId: r.tripId, type: r.type, title: r.title, startsAt: r.startsAt, endsAt: r.endsAt, places: r.places, status: r.status,
        trackingRef: r.trackingRef, agencyId: r.agencyId, price: r.price, notes: r.notes, version: r.version, createdAt: r.createdAt, updatedAt: r.updatedAt
      })
      v.findable.push(r.id)
      v.liveRows.push(`R#${r.tripId}#${r.id}`)
    }
    for (const t of u.trips.values()) {
      if (t.removed) continue
      const mine = live.filter(r => r.tripId === t.id)
      const active = mine.filter(r => r.status === 'active')
      const startsAt = active.length ? active.map(r => r.startsAt).sort()[0] : undefined
      const endsAt = active.length ? active.map(r => r.endsAt).sort().at(-1) : undefined
      const finished = !t.unassigned && t.finishApplied && active.length === 0
      v.trips[t.id] = {
        trip: drop({ id: t.id, name: t.name, notes: t.notes, unassigned: t.unassigned, status: finished ? 'finished' : 'active', startsAt, endsAt, shares: Object.fromEntries(t.shares), version: t.version }),
        reservationIds: mine.sort((a, b) => (a.startsAt === b.startsAt ? (a.id < b.id ? -1 : 1) : a.startsAt < b.startsAt ? -1 : 1)).map(r => r.id)
      }
      v.liveRows.push(`T#${t.id}`)
      if (!finished && endsAt) v.endDays.push(`END#${endsAt.slice(0, 10)} ${t.id}`)
      for (const [grantee, role] of t.shares) {
        const g = out.get(grantee)
        if (g) g.sharedWithMe[`${userId}/${t.id}`] = { role, tripName: t.name }
      }
    }
    if (u.settings) v.settings = u.settings
  }
  for (const v of out.values()) { v.findable.sort(); v.liveRows.sort(); v.endDays.sort() }
  return out
}
