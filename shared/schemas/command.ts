import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import { encodeWith, firstError, parseJson } from './codec.ts'
import { ActorId, AgencyId, Id, TripId, UserId } from './ids.ts'
import { AgencyUpdateBody, ReservationPatchBody, reservationCreateFields } from './reservation.ts'
import { SettingsPutBody } from './settings.ts'
import { ShareRole, TripCreateBody, TripPatchBody } from './trip.ts'

/**
 * Command envelope, topic "reservation commands".
 *
 * Wire format: Kafka key = `userId` (the owner, so one user's commands sit
 * in order in one partition), value = UTF-8 JSON
 *   { v: 1, id, type, userId, actorId, acceptedAt, payload }
 * - `id`: time-ordered command id (newId()), for tracing and events;
 * - `userId`: owner of the data changed; `actorId`: who asked (the owner,
 *   `agency:<id>` or `system:<task>`);
 * - `acceptedAt`: epoch ms when the API accepted it; the fold takes every
 *   timestamp from it, never from the clock, so replays are identical.
 */

const closed = { additionalProperties: false } as const
const obj = <P extends TProperties>(p: P) => Type.Object(p, closed)

function envelope<T extends string, P extends TObject>(type: T, payload: P) {
  return Type.Object(
    {
      v: Type.Literal(1),
      id: Id,
      type: Type.Literal(type),
      userId: UserId,
      actorId: ActorId,
      acceptedAt: Type.Integer({ minimum: 0 }),
      payload,
    },
    closed,
  )
}

/**
 * The HTTP body requires updateId and occurredAt; the command keeps them optional so commands
 * accepted before agencies sent them still decode (the fold applies those without ordering).
 */
const agencyUpdateFields = {
  ...AgencyUpdateBody.properties,
  updateId: Type.Optional(AgencyUpdateBody.properties.updateId),
  occurredAt: Type.Optional(AgencyUpdateBody.properties.occurredAt),
}

export const ReservationCreateCommand = envelope('reservation.create', obj({ reservationId: Id, ...reservationCreateFields }))
export const ReservationUpdateCommand = envelope('reservation.update', obj({ reservationId: Id, patch: ReservationPatchBody }))
export const ReservationRemoveCommand = envelope('reservation.remove', obj({ reservationId: Id }))
export const ReservationAgencyUpdateCommand = envelope('reservation.agency-update', obj({ agencyId: AgencyId, ...agencyUpdateFields }))
/** Trip ids created by users are always time-ordered ids, never `unassigned-…`. */
export const TripCreateCommand = envelope('trip.create', obj({ tripId: Id, ...TripCreateBody.properties }))
export const TripUpdateCommand = envelope('trip.update', obj({ tripId: TripId, patch: TripPatchBody }))
export const TripRemoveCommand = envelope('trip.remove', obj({ tripId: TripId }))
export const TripSharePutCommand = envelope('trip.share.put', obj({ tripId: TripId, granteeId: UserId, role: ShareRole }))
export const TripShareRemoveCommand = envelope('trip.share.remove', obj({ tripId: TripId, granteeId: UserId }))
/** Sent by the periodic task when a trip's end passed (found via byEndDay). */
export const TripFinishCommand = envelope('trip.finish', obj({ tripId: TripId }))
export const SettingsPutCommand = envelope('settings.put', SettingsPutBody)

export const COMMAND_SCHEMAS = {
  'reservation.create': ReservationCreateCommand,
  'reservation.update': ReservationUpdateCommand,
  'reservation.remove': ReservationRemoveCommand,
  'reservation.agency-update': ReservationAgencyUpdateCommand,
  'trip.create': TripCreateCommand,
  'trip.update': TripUpdateCommand,
  'trip.remove': TripRemoveCommand,
  'trip.share.put': TripSharePutCommand,
  'trip.share.remove': TripShareRemoveCommand,
  'trip.finish': TripFinishCommand,
  'settings.put': SettingsPutCommand,
} as const

export type CommandType = keyof typeof COMMAND_SCHEMAS
export const COMMAND_TYPES = Object.keys(COMMAND_SCHEMAS) as CommandType[]

export const Command = Type.Union(Object.values(COMMAND_SCHEMAS) as [typeof ReservationCreateCommand, ...TObject[]])
export type Command = { [K in CommandType]: Static<(typeof COMMAND_SCHEMAS)[K]> }[CommandType]
export type CommandOf<K extends CommandType> = Extract<Command, { type: K }>
export type PayloadOf<K extends CommandType> = CommandOf<K>['payload']

/** Compiled once; `CommandCheck.Check(x)` validates any command. */
export const CommandCheck = TypeCompiler.Compile(Command)
const variantChecks = Object.fromEntries(
  COMMAND_TYPES.map((t) => [t, TypeCompiler.Compile<TSchema>(COMMAND_SCHEMAS[t])]),
) as Record<CommandType, TypeCheck<TSchema>>

export type DecodedCommand = { ok: true; command: Command } | { ok: false; reason: string }

/**
 * Decodes a Kafka value; never throws. Dispatches on `type` first so the
 * reason names the failing field of that command rather than the union.
 */
export function decodeCommand(input: Uint8Array | string): DecodedCommand {
  const parsed = parseJson(input)
  if (!parsed.ok) return { ok: false, reason: parsed.reason }
  const value = parsed.value as { type?: unknown } | null
  const type = typeof value === 'object' && value !== null && !Array.isArray(value) ? value.type : undefined
  if (typeof type !== 'string' || !Object.hasOwn(COMMAND_SCHEMAS, type)) return { ok: false, reason: '/type: unknown command type' }
  const check = variantChecks[type as CommandType]
  if (check.Check(value)) return { ok: true, command: value as Command }
  return { ok: false, reason: firstError(check, value) }
}

/** JSON value for Kafka; throws MessageSchemaError if the command is invalid. */
export function encodeCommand(command: Command): string {
  return encodeWith(`command ${command.type}`, variantChecks[command.type], command)
}
