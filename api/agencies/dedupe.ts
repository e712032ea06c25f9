import { type Logger } from '../../shared/log/logger.ts'
import { encodeCommand, type Command } from '../../shared/schemas/command.ts'
import { type Commands } from '../commands.ts'
import { ApiError } from '../errors.ts'
import { hashOf } from '../idempotency.ts'
import { sendOnce, unlessTaken, type SendOnceIo } from '../send-once.ts'
import { agencyUpdatePk, AGENCY_UPDATE_SK, RecordTaken, type AgencyUpdateRecord, type AgencyUpdateRecords } from './update-records.ts'

export interface AgencyDedupeOptions {
  /** How long an updateId is remembered (seconds). */
  ttlS: number
  /** How long one request may hold a record while producing: the produce deadline plus a margin (ms). */
  leaseMs: number
}

export interface AgencyUpdateRequest {
  agencyId: string
  updateId: string
  /** The validated body: the same updateId with another body is refused. */
  body: unknown
  reservationId: string
  command: Command
}

export interface AcceptedUpdate { reservationId: string, replayed: boolean }

/** The I/O this logic needs (AgencyUpdateRecords over DynamoDB; a Map in unit tests). */
export type RecordIo = Pick<AgencyUpdateRecords, 'get' | 'put' | 'moveLease' | 'markDone'>

/**
 * Agency updates deduplicated by the agency's own `(agencyId, updateId)`: the record drives the
 * send-once protocol of the Idempotency-Key flow (api/send-once.ts):
 * - a repeat after success (an agency retry, or a captured request replayed inside the signature
 *   window): 202 with the same body (`{ id, status }`, header `Idempotent-Replayed: true`), nothing
 *   produced, so an agency may retry without fear.
 * - the produce failed (503) or the process died between the put and the produce: the agency got no
 *   202 and retries; the retry takes the lease over and re-sends the SAME command bytes, so the
 *   update is never lost and never produced as two different commands.
 * - a repeat while the first is still producing waits (at most a lease), then 409 idempotency_in_progress.
 * - the same updateId with another body: 422, detail `update_id_reused`.
 */
export class AgencyDedupe {
  constructor (private readonly io: RecordIo, private readonly commands: Pick<Commands, 'sendEncoded'>,
    private readonly o: AgencyDedupeOptions, private readonly log: Logger) {}

  async accept (r: AgencyUpdateRequest): Promise<AcceptedUpdate> {
    const now = Date.now()
    const record: AgencyUpdateRecord = {
      pk: agencyUpdatePk(r.agencyId, r.updateId),
      sk: AGENCY_UPDATE_SK,
      entity: 'agency-update',
      agencyId: r.agencyId,
      updateId: r.updateId,
      requestHash: hashOf(r.body),
      reservationId: r.reservationId,
      ownerId: r.command.userId,
      commandType: r.command.type,
      command: encodeCommand(r.command),
      state: 'pending',
      leaseUntil: now + this.o.leaseMs,
      createdAt: now,
      expiresAt: Math.floor(now / 1000) + this.o.ttlS
    }
    const { agencyId, updateId } = r
    const io: SendOnceIo<AgencyUpdateRecord> = {
      get: () => this.io.get(agencyId, updateId),
      put: rec => unlessTaken(() => this.io.put(rec), taken),
      moveLease: (expected, until) => unlessTaken(() => this.io.moveLease(agencyId, updateId, expected, until), taken),
      markDone: () => this.io.markDone(agencyId, updateId)
    }
    const out = await sendOnce(io, record, {
      leaseMs: this.o.leaseMs,
      conflict: existing => existing.requestHash !== record.requestHash
        ? new ApiError(422, 'validation_failed', 'this updateId was used before for another update',
          [{ field: 'body.updateId', code: 'update_id_reused', message: 'used before by this agency with another body' }])
        : undefined,
      send: rec => this.commands.sendEncoded(rec.ownerId, rec.commandType, rec.command),
      inProgress: 'an update with this updateId is still being processed',
      onTakeover: existing => this.log.info('api_agency_update_takeover', { agencyId, updateId, reservationId: existing.reservationId }),
      onMarkFailed: error => this.log.warn('api_agency_update_mark_failed', { agencyId, updateId, error })
    })
    return { reservationId: out.record.reservationId, replayed: out.replayed }
  }
}

const taken = (err: unknown) => err instanceof RecordTaken
