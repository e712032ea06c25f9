import { Type, type Static, type TProperties } from '@sinclair/typebox'
import { AgencyId, Id, TripId, UserId } from '../schemas/ids.ts'
import { Notification } from '../schemas/notification.ts'
import { Notes, Places, Price, ReservationType, Title, TrackingRef } from '../schemas/reservation.ts'
import { Language, TimeZone, Webhook } from '../schemas/settings.ts'
import { ReservationStatus, StatusEvent } from '../schemas/status-event.ts'
import { ShareRole, TripName, TripNotes } from '../schemas/trip.ts'
import {
  endDayGsiPk,
  endDayGsiSk,
  granteeGsiPk,
  granteeGsiSk,
  liveReservationLsiSk,
  liveTripLsiSk,
  reservationGsiPk,
  reservationTripGsiSk,
  shareTripGsiSk,
  TRIP_GSI_SK,
  tripGsiPk,
} from './keys.ts'

/**
 * DynamoDB item images (full Put images). Times are stored normalized
 * (UTC ISO with ms, see normalizeInstant) so they compare as strings;
 * audit times (createdAt, updatedAt, history.at) are epoch ms taken from
 * the command's acceptedAt, never from a clock.
 *
 * Every item written by the fold carries `lastOffset` (offset of the last
 * command applied to it; replays at or below it are no-ops) and `version`
 * (+1 per command applied to it). Nothing is hard-deleted: removal leaves
 * a tombstone (`deleted: true`, index attributes dropped).
 *
 * `entity` tells item kinds apart (not `kind`, which a notification
 * already uses for its change kind).
 *
 * Items never hold `undefined` values (DynamoDB's marshaller rejects them):
 * build them through `compact`.
 */

const Iso = Type.String({ maxLength: 24 })
const Ms = Type.Integer({ minimum: 0 })
const closed = { additionalProperties: false } as const

const base = {
  pk: Type.String(),
  sk: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  lastOffset: Type.Integer({ minimum: 0 }),
  createdAt: Ms,
  updatedAt: Ms,
  deleted: Type.Optional(Type.Boolean()),
} satisfies TProperties

/** Fields whose changes are recorded in a reservation's history. */
export const HISTORY_FIELDS = ['type', 'title', 'startsAt', 'endsAt', 'places', 'tripId', 'status'] as const
export type HistoryField = (typeof HISTORY_FIELDS)[number]
/** Bounded so an item stays small: the last changes matter most. */
export const HISTORY_LIMIT = 20

export const HistoryEntry = Type.Object(
  {
    at: Ms,
    offset: Type.Integer({ minimum: 0 }),
    commandId: Id,
    /** `null` stands for "absent" (DynamoDB holds no undefined). */
    changes: Type.Record(Type.String(), Type.Object({ from: Type.Unknown(), to: Type.Unknown() }, closed)),
  },
  closed,
)
export type HistoryEntry = Static<typeof HistoryEntry>

export const ReservationItem = Type.Object(
  {
    ...base,
    entity: Type.Literal('reservation'),
    id: Id,
    ownerId: UserId,
    tripId: TripId,
    type: ReservationType,
    title: Title,
    startsAt: Iso,
    endsAt: Iso,
    places: Places,
    trackingRef: Type.Optional(TrackingRef),
    agencyId: Type.Optional(AgencyId),
    /** occurredAt (normalized) of the last agency update applied: an agency update not later than it changes nothing. */
    agencyOccurredAt: Type.Optional(Iso),
    /** Id of the command that created it: the same create sent again (an idempotent retry) is no conflict. */
    createdBy: Type.Optional(Id),
    /** Offset of the command that created it: a replay counts it only at later offsets. */
    createdOffset: Type.Optional(Type.Integer({ minimum: 0 })),
    price: Type.Optional(Price),
    notes: Type.Optional(Notes),
    status: ReservationStatus,
    history: Type.Array(HistoryEntry, { maxItems: HISTORY_LIMIT }),
    /** The status event last emitted for it, re-emitted as is on replay. */
    lastEvent: Type.Optional(StatusEvent),
    gsi2pk: Type.Optional(Type.String()),
    gsi3pk: Type.Optional(Type.String()),
    gsi3sk: Type.Optional(Type.String()),
    /** `live` local index: R#<tripId>#<id> while not removed. */
    lsi1sk: Type.Optional(Type.String()),
  },
  closed,
)
export type ReservationItem = Static<typeof ReservationItem>

export const TRIP_STATUSES = ['active', 'finished', 'removed'] as const
export const TripStatus = Type.Union(TRIP_STATUSES.map((s) => Type.Literal(s)))
export type TripStatus = Static<typeof TripStatus>

export const TripItem = Type.Object(
  {
    ...base,
    entity: Type.Literal('trip'),
    id: TripId,
    ownerId: UserId,
    name: TripName,
    notes: Type.Optional(TripNotes),
    /** Offset of the command that created it: with `lastOffset` of a
     * tombstone, tells whether it was live at a replayed offset. */
    createdOffset: Type.Integer({ minimum: 0 }),
    /** Id of the command that created it (absent on an Unassigned trip). */
    createdBy: Type.Optional(Id),
    /** The owner's Unassigned trip: cannot be renamed, removed or shared. */
    unassigned: Type.Boolean(),
    /** Derived (deriveTrip): removed if deleted; finished once finished with no active reservation left. */
    status: TripStatus,
    /** Derived: min start / max end of its active reservations; absent when none. The fold
     * finds them through the `live` index (no map of them here: an item must not grow with
     * a user's data). */
    startsAt: Type.Optional(Iso),
    endsAt: Type.Optional(Iso),
    /** granteeId -> role: the byTrip Query alone authorizes a reader. Bounded by LIMITS.sharesPerTrip. */
    shares: Type.Record(Type.String(), ShareRole),
    /** acceptedAt of the last trip.finish applied. */
    finishedAt: Type.Optional(Ms),
    gsi3pk: Type.Optional(Type.String()),
    gsi3sk: Type.Optional(Type.String()),
    gsi4pk: Type.Optional(Type.String()),
    gsi4sk: Type.Optional(Type.String()),
    /** `live` local index: T#<id> while not removed. */
    lsi1sk: Type.Optional(Type.String()),
  },
  closed,
)
export type TripItem = Static<typeof TripItem>

/** Access entry of a shared trip; `tripName` is copied so "shared with me" needs one Query. */
export const ShareItem = Type.Object(
  {
    ...base,
    entity: Type.Literal('share'),
    tripId: TripId,
    ownerId: UserId,
    granteeId: UserId,
    role: ShareRole,
    tripName: TripName,
    gsi1pk: Type.Optional(Type.String()),
    gsi1sk: Type.Optional(Type.String()),
    gsi3pk: Type.Optional(Type.String()),
    gsi3sk: Type.Optional(Type.String()),
  },
  closed,
)
export type ShareItem = Static<typeof ShareItem>

export const SettingsItem = Type.Object(
  {
    ...base,
    entity: Type.Literal('settings'),
    userId: UserId,
    webhook: Type.Optional(Webhook),
    language: Type.Optional(Language),
    timeZone: Type.Optional(TimeZone),
  },
  closed,
)
export type SettingsItem = Static<typeof SettingsItem>

/** Written by the notifier (not the fold); readers skip it past `expiresAt` (epoch s). */
export const NotificationItem = Type.Object(
  {
    pk: Type.String(),
    sk: Type.String(),
    entity: Type.Literal('notification'),
    ...Notification.properties,
    read: Type.Optional(Type.Boolean()),
    expiresAt: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  closed,
)
export type NotificationItem = Static<typeof NotificationItem>

/**
 * The notifier's dedupe record of a reservation: `lastSeq` is the highest event seq already
 * notified. While an event is being delivered it also holds a claim (`claimSeq`, the notification
 * id chosen for it, the claiming process and when the claim lapses), written conditionally, so a
 * retry after a crash reuses the same notification id and a second notifier waits rather than
 * delivering the same change again (notifier/dedupe.ts).
 */
export const NotifiedItem = Type.Object(
  {
    pk: Type.String(),
    sk: Type.String(),
    entity: Type.Literal('notified'),
    reservationId: Id,
    lastSeq: Type.Optional(Type.Integer({ minimum: 0 })),
    notifiedAt: Type.Optional(Ms),
    claimSeq: Type.Optional(Type.Integer({ minimum: 0 })),
    claimId: Type.Optional(Id),
    claimOwner: Type.Optional(Type.String({ maxLength: 200 })),
    claimUntil: Type.Optional(Ms),
  },
  closed,
)
export type NotifiedItem = Static<typeof NotifiedItem>

/** Items the fold reads and writes. */
export const FoldItem = Type.Union([ReservationItem, TripItem, ShareItem, SettingsItem])
export type FoldItem = Static<typeof FoldItem>

/** Copy without undefined-valued keys (DynamoDB rejects undefined). */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v
  return out as T
}

const INDEX_ATTRIBUTES = ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi3pk', 'gsi3sk', 'gsi4pk', 'gsi4sk', 'lsi1sk'] as const
function withoutIndexes<T extends object>(item: T): T {
  const out: Record<string, unknown> = { ...(item as Record<string, unknown>) }
  for (const a of INDEX_ATTRIBUTES) delete out[a]
  return out as T
}

/** Index attributes follow state: present while live, gone once removed. */
export function withReservationIndexes(r: ReservationItem): ReservationItem {
  const bare = withoutIndexes(r)
  if (r.deleted || r.status === 'removed') return bare
  return {
    ...bare,
    gsi2pk: reservationGsiPk(r.id),
    gsi3pk: tripGsiPk(r.tripId),
    gsi3sk: reservationTripGsiSk(r.startsAt, r.id),
    lsi1sk: liveReservationLsiSk(r.tripId, r.id),
  }
}

export function withShareIndexes(s: ShareItem): ShareItem {
  const bare = withoutIndexes(s)
  if (s.deleted) return bare
  return {
    ...bare,
    gsi1pk: granteeGsiPk(s.granteeId),
    gsi1sk: granteeGsiSk(s.tripId),
    gsi3pk: tripGsiPk(s.tripId),
    gsi3sk: shareTripGsiSk(s.granteeId),
  }
}

/** What a trip's derived fields follow: one of its live reservations (an index row or an item). */
export interface TripReservationState {
  startsAt: string
  endsAt: string
  status: ReservationStatus
}

/**
 * Recomputes a trip's derived fields (span, status, index attributes) from its own state and
 * its live reservations. A pure function of them, so it gives the same result however commands
 * were batched. Without `reservations` the stored span is kept (the batch changed none of them).
 */
export function deriveTrip(trip: TripItem, reservations?: Iterable<TripReservationState>): TripItem {
  const bare = withoutIndexes(trip)
  delete bare.startsAt
  delete bare.endsAt
  if (trip.deleted) return { ...bare, status: 'removed' }
  let startsAt = reservations ? undefined : trip.startsAt
  let endsAt = reservations ? undefined : trip.endsAt
  for (const r of reservations ?? []) {
    if (r.status !== 'active') continue
    if (startsAt === undefined || r.startsAt < startsAt) startsAt = r.startsAt
    if (endsAt === undefined || r.endsAt > endsAt) endsAt = r.endsAt
  }
  const status: TripStatus = endsAt === undefined && trip.finishedAt !== undefined && !trip.unassigned ? 'finished' : 'active'
  const derived: TripItem = { ...bare, status, gsi3pk: tripGsiPk(trip.id), gsi3sk: TRIP_GSI_SK, lsi1sk: liveTripLsiSk(trip.id) }
  if (startsAt === undefined || endsAt === undefined) return derived
  return {
    ...derived,
    startsAt,
    endsAt,
    gsi4pk: endDayGsiPk(endsAt),
    gsi4sk: endDayGsiSk(endsAt, trip.ownerId, trip.id),
  }
}

export const isReservation = (item: FoldItem | undefined): item is ReservationItem => item?.entity === 'reservation'
export const isTrip = (item: FoldItem | undefined): item is TripItem => item?.entity === 'trip'
export const isShare = (item: FoldItem | undefined): item is ShareItem => item?.entity === 'share'
export const isSettings = (item: FoldItem | undefined): item is SettingsItem => item?.entity === 'settings'
