import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { LIMIT_CODES } from '../domain/limits.ts'
import { decodeWith, encodeWith } from './codec.ts'
import { Id, TripId, UserId } from './ids.ts'
import { Places, ReservationType, Title } from './reservation.ts'
import { IsoDateTime } from './times.ts'

/**
 * Status event, compacted topic "reservation status".
 *
 * Wire format: Kafka key = `reservationId` (compaction keeps the latest
 * status of each reservation), value = UTF-8 JSON of StatusEvent.
 * - `seq`: command-topic offset of the command that made the change this
 *   event reports (the last such command of the batch), a JSON number
 *   (offsets stay far below 2^53). Monotonic per reservation, since all of
 *   a user's commands share one partition: the notifier ignores any event
 *   whose seq is not above what it already notified. It is also the replay
 *   key: when the updater replays that offset, it re-emits this event.
 * - `emittedFor`: offset of the last command applied to the reservation
 *   when the event was made (>= seq: a later command of the same batch may
 *   have touched only notes, or moved it to another trip).
 *   `commandId` and `acceptedAt` are those of the `seq` command.
 * - One event per reservation per updater batch: the net change across
 *   the batch. A replay re-emits the stored event with identical content.
 * - `change: 'rejected'`: the fold refused a command of the user's on this
 *   reservation for a limit (LIMIT_CODES; the API's 422 check raced with
 *   another write). `rejection` says which and why; `seq` and `emittedFor`
 *   are the refused command's offset. For a refused create the reservation
 *   does not exist: `status` is 'removed' and `current` is the command's
 *   payload; otherwise `current` is the reservation as it stays. Beside it
 *   the batch may emit the reservation's own net change (another seq).
 *   A replay refuses the command again and re-emits the same event.
 */

export const STATUS_CHANGES = ['created', 'cancelled', 'rescheduled', 'updated', 'removed', 'finished', 'reinstated', 'rejected'] as const
export const StatusChange = Type.Union(STATUS_CHANGES.map((c) => Type.Literal(c)))
export type StatusChange = Static<typeof StatusChange>

export const RESERVATION_STATUSES = ['active', 'cancelled', 'removed', 'finished'] as const
export const ReservationStatus = Type.Union(RESERVATION_STATUSES.map((s) => Type.Literal(s)))
export type ReservationStatus = Static<typeof ReservationStatus>

const Offset = Type.Integer({ minimum: 0 })

/** Why a command was refused (change 'rejected'): the limit's code and a sentence for the user. */
export const Rejection = Type.Object(
  { code: Type.Union(Object.values(LIMIT_CODES).map((c) => Type.Literal(c))), reason: Type.String({ maxLength: 500 }) },
  { additionalProperties: false },
)

export const StatusEvent = Type.Object(
  {
    v: Type.Literal(1),
    reservationId: Id,
    userId: UserId,
    tripId: TripId,
    seq: Offset,
    change: StatusChange,
    status: ReservationStatus,
    previous: Type.Optional(
      Type.Object({ status: ReservationStatus, startsAt: IsoDateTime, endsAt: IsoDateTime }, { additionalProperties: false }),
    ),
    current: Type.Object(
      { status: ReservationStatus, startsAt: IsoDateTime, endsAt: IsoDateTime, title: Title, type: ReservationType, places: Places },
      { additionalProperties: false },
    ),
    acceptedAt: Type.Integer({ minimum: 0 }),
    commandId: Id,
    emittedFor: Offset,
    rejection: Type.Optional(Rejection),
  },
  { additionalProperties: false },
)
export type StatusEvent = Static<typeof StatusEvent>

export const StatusEventCheck = TypeCompiler.Compile(StatusEvent)

export type DecodedStatusEvent = { ok: true; event: StatusEvent } | { ok: false; reason: string }

/** Never throws; a compaction tombstone (null value) decodes as not ok. */
export function decodeStatusEvent(input: Uint8Array | string): DecodedStatusEvent {
  const d = decodeWith(StatusEventCheck, input)
  return d.ok ? { ok: true, event: d.value } : d
}

export function encodeStatusEvent(event: StatusEvent): string {
  return encodeWith('status event', StatusEventCheck, event)
}
