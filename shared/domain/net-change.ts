import type { StatusChange, StatusEvent } from '../schemas/status-event.ts'
import { deepEqual } from './equal.ts'
import type { ReservationItem } from './items.ts'

/**
 * The one change worth telling a user about between two states of a
 * reservation (before and after a batch), or undefined if nothing real
 * changed. Status changes win over times, times over content; notes,
 * price, tracking ref and trip moves alone are not notified.
 */
export function netChange(before: ReservationItem | undefined, after: ReservationItem): StatusChange | undefined {
  if (!before) return after.status === 'removed' ? undefined : 'created'
  if (before.status !== after.status) {
    if (after.status === 'active') return 'reinstated'
    return after.status
  }
  if (after.status === 'removed') return undefined
  if (before.startsAt !== after.startsAt || before.endsAt !== after.endsAt) return 'rescheduled'
  if (before.title !== after.title || before.type !== after.type || !deepEqual(before.places, after.places)) return 'updated'
  return undefined
}

/** What caused the event: the last command that changed a notified field. */
export interface EventCause {
  offset: number
  commandId: string
  acceptedAt: number
}

export function statusEvent(
  before: ReservationItem | undefined,
  after: ReservationItem,
  change: StatusChange,
  cause: EventCause,
): StatusEvent {
  const event: StatusEvent = {
    v: 1,
    reservationId: after.id,
    userId: after.ownerId,
    tripId: after.tripId,
    seq: cause.offset,
    change,
    status: after.status,
    current: {
      status: after.status,
      startsAt: after.startsAt,
      endsAt: after.endsAt,
      title: after.title,
      type: after.type,
      places: after.places,
    },
    acceptedAt: cause.acceptedAt,
    commandId: cause.commandId,
    emittedFor: after.lastOffset,
  }
  if (before) event.previous = { status: before.status, startsAt: before.startsAt, endsAt: before.endsAt }
  return event
}

/**
 * The event that tells a user a command of theirs on this reservation was refused for a limit:
 * `current` is the reservation as it stays (for a refused create, what was asked for, with
 * status 'removed': it does not exist). Keyed by the refused command's offset, so a replay
 * emits the same event and the notifier's dedupe holds.
 */
export function rejectedEvent(
  subject: { reservationId: string; userId: string; tripId: string; current: StatusEvent['current'] },
  rejection: NonNullable<StatusEvent['rejection']>,
  cause: { offset: number; commandId: string; at: number },
): StatusEvent {
  const { status, startsAt, endsAt, title, type, places } = subject.current
  return {
    v: 1,
    reservationId: subject.reservationId,
    userId: subject.userId,
    tripId: subject.tripId,
    seq: cause.offset,
    change: 'rejected',
    status,
    current: { status, startsAt, endsAt, title, type, places },
    acceptedAt: cause.at,
    commandId: cause.commandId,
    emittedFor: cause.offset,
    rejection: { code: rejection.code, reason: rejection.reason },
  }
}
