/**
 * Random command sequences for the property tests: a few users whose commands name ids from small
 * pools (so creates collide, updates hit removed items, moves target removed trips), agency updates
 * with out-of-order and equal `occurredAt` (also written in another zone), times in several ISO
 * forms, and redeliveries of an earlier command as is (an API retry, a captured agency request).
 */
import fc from 'fast-check'
import type { Command } from '../../shared/schemas/command.ts'

export const USERS = ['alice', 'bob', 'carol'] as const
/** `dave` owns nothing: he only ever receives shares. */
export const READERS = [...USERS, 'dave'] as const
export const T0 = Date.UTC(2030, 0, 10, 12)

const pad = (s: string) => s.padEnd(26, '0')
export const reservationId = (u: number, i: number) => pad(`01JR${u}${i}`)
export const tripId = (u: number, i: number) => pad(`01JT${u}${i}`)
const commandId = (n: number) => `01JC${String(n).padStart(22, '0')}`
const unassigned = (u: number) => `unassigned-${USERS[u]}`

/** Reservation times: eight instants six hours apart, written in one of three equivalent forms. */
const HOUR = 3_600_000
const instant = (k: number) => Date.UTC(2030, 1, 1, 8) + k * 6 * HOUR
function iso (ms: number, form: number): string {
  const d = new Date(ms).toISOString()
  if (form === 0) return d.slice(0, 16) + 'Z'
  if (form === 1) return d
  return new Date(ms + 2 * HOUR).toISOString().slice(0, 19) + '+02:00'
}
/** occurredAt of agency updates: three instants a second apart; form 2 writes the same instant in +01:00. */
function occurred (k: number, form: number): string {
  const ms = Date.UTC(2029, 11, 1, 0, 0, k)
  return form === 2 ? new Date(ms + HOUR).toISOString().slice(0, 19) + '+01:00' : new Date(ms).toISOString()
}

const TYPES = ['flight', 'hotel', 'car', 'rail', 'other'] as const
const TITLES = ['AF 123', 'Hotel Lutetia', 'Rental car']
const PLACES = [[{ name: 'Paris CDG', code: 'CDG' }], [{ name: 'Lisbon' }, { name: 'Porto', lat: 41.15, lon: -8.61 }], [{ name: 'Orly', code: 'ORY' }]]

export interface Step {
  kind: number
  u: number
  r: number
  t: number
  s1: number
  s2: number
  form: number
  txt: number
  flags: number
  who: number
  occ: number
  dupOf: number
}

/** Weighted command kinds; `dup` re-sends an earlier command unchanged. */
const KINDS = [
  'create', 'create', 'create', 'create', 'create', 'update', 'update', 'update', 'update', 'remove', 'remove',
  'agency', 'agency', 'agency', 'agency', 'trip.create', 'trip.create', 'trip.create', 'trip.update', 'trip.remove',
  'share.put', 'share.put', 'share.remove', 'finish', 'finish', 'settings', 'dup', 'dup'
] as const

/** Unbiased: fast-check's small-value bias would make most patches empty and most ids collide on 0. */
export const stepArb: fc.Arbitrary<Step> = fc.noBias(fc.record({
  kind: fc.nat(KINDS.length - 1),
  u: fc.constantFrom(0, 0, 1, 2),
  r: fc.nat(1),
  t: fc.nat(3),
  s1: fc.nat(7),
  s2: fc.nat(7),
  form: fc.nat(2),
  txt: fc.nat(2),
  flags: fc.nat(1023),
  who: fc.nat(READERS.length - 1),
  occ: fc.nat(3),
  dupOf: fc.nat(1000)
}))

/** Turns steps into commands; each command's offset is its index plus `base`. */
export function materialize (steps: readonly Step[]): Command[] {
  const out: Command[] = []
  // Ids named by earlier creates: four in five later commands target one of them (else random ids
  // would mostly miss and be refused as not found).
  const reservations: Array<[number, number]> = []
  const trips: Array<[number, number]> = []
  steps.forEach((step, n) => {
    const kind = KINDS[step.kind]!
    if (kind === 'dup') {
      if (out.length) out.push(out[step.dupOf % out.length]!)
      else out.push(build(n, { ...step, kind: 0 }, 'create'))
      return
    }
    let s = step
    const known = step.flags % 5 !== 0
    if (known && reservations.length && ['update', 'remove', 'agency'].includes(kind)) {
      const [u, r] = reservations[step.dupOf % reservations.length]!
      s = { ...s, u, r }
    }
    if (known && trips.length && ['trip.update', 'trip.remove', 'share.put', 'share.remove', 'finish'].includes(kind)) {
      const [u, t] = trips[step.dupOf % trips.length]!
      // Some go to the Unassigned trip, which trip.finish may target (half of those).
      s = { ...s, u, t: step.t === 3 && (kind === 'finish' || step.flags % 3 === 0) ? 3 : kind === 'finish' && step.t === 2 ? 3 : t }
    }
    if (kind === 'create') {
      reservations.push([s.u, s.r])
      const own = trips.filter(([u]) => u === s.u)
      if (known && own.length && s.t < 3) s = { ...s, t: own[step.dupOf % own.length]![1] }
    }
    if (kind === 'trip.create') trips.push([s.u, s.t % 3])
    out.push(build(n, s, kind))
  })
  return out
}

function build (n: number, s: Step, kind: Exclude<(typeof KINDS)[number], 'dup'>): Command {
  const userId = USERS[s.u]!
  const bit = (b: number) => (s.flags & (1 << b)) !== 0
  const start = instant(s.s1)
  // One in eight ends before it starts (refused invalid_times).
  const end = s.flags % 8 === 0 && s.s1 > 0 ? instant(s.s1 - 1) : instant(Math.min(7, s.s1 + (s.s2 % 3)))
  const trip = s.t < 3 ? tripId(s.u, s.t) : unassigned(s.u)
  const head = { v: 1 as const, id: commandId(n), userId, actorId: userId, acceptedAt: T0 + n * 1000 }
  const c = (type: string, payload: unknown, extra: Record<string, unknown> = {}) => ({ ...head, ...extra, type, payload }) as Command
  switch (kind) {
    case 'create':
      return c('reservation.create', {
        reservationId: reservationId(s.u, s.r),
        type: TYPES[s.txt + (bit(5) ? 2 : 0)],
        title: TITLES[s.txt],
        startsAt: iso(start, s.form),
        endsAt: iso(end, (s.form + 1) % 3),
        ...(bit(1) && bit(6) ? { tripId: trip } : {}),
        places: PLACES[s.txt],
        ...(s.who === 3 ? {} : { agencyId: s.who === 2 ? 'beta' : 'acme' }),
        ...(bit(2) ? { notes: 'window seat' } : {}),
        ...(bit(3) ? { price: { amount: 120 + s.txt, currency: 'EUR' } } : {}),
        ...(bit(4) ? { trackingRef: `PNR${s.txt}` } : {})
      })
    case 'update': {
      const patch: Record<string, unknown> = {}
      if (bit(1)) patch.title = TITLES[s.txt]
      if (bit(2)) patch.startsAt = iso(start, s.form)
      if (bit(3)) patch.endsAt = iso(end, s.form)
      if (bit(4)) patch.tripId = s.t === 3 && bit(9) ? null : trip
      if (bit(5)) patch.notes = s.txt === 0 ? null : `note ${s.txt}`
      if (bit(6)) patch.price = s.txt === 0 ? null : { amount: s.txt * 10, currency: 'USD' }
      if (bit(7)) patch.agencyId = s.who === 0 ? 'acme' : s.who === 1 ? null : 'beta'
      if (bit(8)) patch.places = PLACES[s.txt]
      if (bit(9) && s.t !== 3) patch.type = TYPES[s.txt]
      if (bit(0)) patch.trackingRef = s.txt === 0 ? null : `REF${s.txt}`
      if (Object.keys(patch).length === 0) patch.title = TITLES[s.txt]
      return c('reservation.update', { reservationId: reservationId(s.u, s.r), patch })
    }
    case 'remove':
      return c('reservation.remove', { reservationId: reservationId(s.u, s.r) })
    case 'agency': {
      const change = (['cancelled', 'rescheduled', 'updated'] as const)[s.txt]
      const body: Record<string, unknown> = { agencyId: s.who === 2 ? 'beta' : 'acme', reservationId: reservationId(s.u, s.r), updateId: `upd-${n}`, change }
      if (s.occ < 3) body.occurredAt = occurred(s.occ, s.form)
      // One in sixteen lacks the times or details its change needs (refused invalid_agency_update).
      const incomplete = s.flags % 16 === 1
      if (change === 'rescheduled' && !incomplete) {
        if (bit(2) || !bit(3)) body.startsAt = iso(start, s.form)
        if (bit(3)) body.endsAt = iso(end, s.form)
      }
      if (change === 'updated' && !incomplete) body.details = bit(4) ? { places: PLACES[(s.txt + 1) % 3] } : { title: TITLES[s.r % 3], notes: 'agency note' }
      return c('reservation.agency-update', body, { actorId: `agency:${String(body.agencyId)}` })
    }
    case 'trip.create':
      return c('trip.create', { tripId: tripId(s.u, s.t % 3), name: `Trip ${s.txt}`, ...(bit(2) ? { notes: 'family' } : {}) })
    case 'trip.update':
      return c('trip.update', { tripId: trip, patch: bit(2) ? { notes: s.txt === 0 ? null : 'n' } : { name: `Renamed ${s.txt}` } })
    case 'trip.remove':
      return c('trip.remove', { tripId: s.t === 3 && !bit(6) ? tripId(s.u, 0) : trip })
    case 'share.put':
      return c('trip.share.put', { tripId: trip, granteeId: READERS[s.who], role: bit(1) ? 'full' : 'dates-and-places' })
    case 'share.remove':
      return c('trip.share.remove', { tripId: trip, granteeId: READERS[s.who] })
    case 'finish':
      // The ended-trips task's command, stamped with its own clock: 30 s after one of the instants.
      return c('trip.finish', { tripId: trip }, { actorId: 'system:finisher', acceptedAt: instant(s.s2) + 30_000 })
    case 'settings':
      return c('settings.put', {
        ...(bit(1) ? { language: 'fr' } : {}),
        ...(bit(2) ? { timeZone: 'Europe/Paris' } : {}),
        ...(bit(3) ? { webhook: { url: 'https://hooks.example.com/rw', secret: 'a-secret-of-16-chars' } } : {})
      })
  }
}
