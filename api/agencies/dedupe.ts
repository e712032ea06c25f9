import { type Logger } from '../../shared/log/logger.ts'
import { encodeCommand, type Command } from '../../shared/schemas/command.ts'
import { type Commands } from '../commands.ts'
import { ApiError } from '../errors.ts'
import { hashOf } from '../idempotency.ts'
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
 * Agency updates deduplicated by the agency's own `(agencyId, updateId)`, the Idempotency-Key flow
 * (api/idempotency.ts) applied to agencies. The record is written with a conditional put BEFORE the
 * command is produced and holds the command's bytes and a lease:
 * - first request: the put wins; produce; mark done; 202.
 * - a repeat after success (an agency retry, or a captured request replayed inside the signature
 *   window): 202 with the same body (`{ id, status }`, header `Idempotent-Replayed: true`), nothing
 *   produced, so an agency may retry without fear.
 * - the produce failed (503) or the process died between the put and the produce: the agency got no
 *   202 and retries; the lease is released (or runs out), the retry takes it over and re-sends the
 *   SAME command bytes, so the update is never lost and never produced as two different commands.
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
    const waitUntil = now + this.o.leaseMs + 500
    for (let attempt = 0; ; attempt++) {
      if (await this.tryPut(record)) return await this.produce(record, false)
      const existing = await this.io.get(r.agencyId, r.updateId)
      if (!existing) continue // expired in between: the next put may win
      if (existing.requestHash !== record.requestHash) {
        throw new ApiError(422, 'validation_failed', 'this updateId was used before for another update',
          [{ field: 'body.updateId', code: 'update_id_reused', message: 'used before by this agency with another body' }])
      }
      if (existing.state === 'done') return { reservationId: existing.reservationId, replayed: true }
      if (existing.leaseUntil <= Date.now()) {
        const lease = Date.now() + this.o.leaseMs
        try {
          await this.io.moveLease(r.agencyId, r.updateId, existing.leaseUntil, lease)
        } catch (err) {
          if (err instanceof RecordTaken) continue
          throw err
        }
        this.log.info('api_agency_update_takeover', { agencyId: r.agencyId, updateId: r.updateId, reservationId: existing.reservationId })
        return await this.produce({ ...existing, leaseUntil: lease }, true)
      }
      if (Date.now() > waitUntil || attempt > 1000) {
        throw new ApiError(409, 'idempotency_in_progress', 'an update with this updateId is still being processed', [], 1)
      }
      await Bun.sleep(Math.min(50, Math.max(1, existing.leaseUntil - Date.now())))
    }
  }

  private async tryPut (record: AgencyUpdateRecord): Promise<boolean> {
    try {
      await this.io.put(record)
      return true
    } catch (err) {
      if (err instanceof RecordTaken) return false
      throw err
    }
  }

  private async produce (record: AgencyUpdateRecord, replayed: boolean): Promise<AcceptedUpdate> {
    try {
      await this.commands.sendEncoded(record.ownerId, record.commandType, record.command)
    } catch (err) {
      // Let the agency's retry take over at once (it re-sends these same bytes).
      await this.io.moveLease(record.agencyId, record.updateId, record.leaseUntil, Date.now()).catch(() => {})
      throw err
    }
    // Best effort: if this fails the record stays pending and a retry re-sends the same command.
    await this.io.markDone(record.agencyId, record.updateId)
      .catch(error => this.log.warn('api_agency_update_mark_failed', { agencyId: record.agencyId, updateId: record.updateId, error }))
    return { reservationId: record.reservationId, replayed }
  }
}
