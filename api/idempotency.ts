import { createHash } from 'node:crypto'
import { type Logger } from '../shared/log/logger.ts'
import { encodeCommand, type Command } from '../shared/schemas/command.ts'
import { userPk } from '../shared/domain/keys.ts'
import { ApiError } from './errors.ts'
import { type Commands } from './commands.ts'
import { ConditionFailed, idempotencySk, type IdempotencyRecord, type Store } from './store.ts'

export interface IdempotencyOptions {
  /** How long a key is remembered (seconds). */
  ttlS: number
  /** How long one request may hold a key while producing: the produce deadline plus a margin (ms). */
  leaseMs: number
}

export interface CreateRequest {
  userId: string
  /** The Idempotency-Key header, if any. */
  key: string | undefined
  /** Operation name (`reservation.create`): a key reused for another operation is refused. */
  operation: string
  /** The validated request body: a key reused with another body is refused. */
  body: unknown
  /** The id of what the command creates. */
  resourceId: string
  command: Command
}

export interface Created { id: string, replayed: boolean }

/**
 * Idempotent creates. The record `U#<user>` / `IDEM#<key>` is written with a conditional put BEFORE
 * producing, holding the command's exact bytes and a lease:
 * - first request: the put wins; produce; mark the record done; 202 with the new id.
 * - retry after success: the record is done; 202 with the same id; nothing produced.
 * - two identical requests at once: one put wins; the other waits (polling, at most a lease) for
 *   the record to be done and answers the same id; past that, 409 `idempotency_in_progress`.
 * - the produce failed (503) or the process died after the put: the lease is released (or runs
 *   out); the retry takes the lease over with a conditional update and re-sends the SAME command
 *   (same reservation id, same command id). If the first send had landed after all, the updater
 *   sees a create of an item this same command created and skips it (the item keeps `createdBy`),
 *   so nothing is created twice; deleting the record instead could create a second resource.
 * - same key, other operation or other body: 422 `idempotency_key_reused`.
 * Expired records (expiresAt, epoch s) are ignored by readers and overwritten by the put.
 */
export class Idempotency {
  constructor (private readonly store: Store, private readonly commands: Commands, private readonly o: IdempotencyOptions, private readonly log: Logger) {}

  async create (r: CreateRequest): Promise<Created> {
    if (r.key === undefined) {
      await this.commands.send(r.command)
      return { id: r.resourceId, replayed: false }
    }
    const now = Date.now()
    const record: IdempotencyRecord = {
      pk: userPk(r.userId),
      sk: idempotencySk(r.key),
      entity: 'idempotency',
      operation: r.operation,
      requestHash: hashOf(r.body),
      resourceId: r.resourceId,
      command: encodeCommand(r.command),
      state: 'pending',
      leaseUntil: now + this.o.leaseMs,
      createdAt: now,
      expiresAt: Math.floor(now / 1000) + this.o.ttlS
    }
    const waitUntil = now + this.o.leaseMs + 500
    for (let attempt = 0; ; attempt++) {
      if (await this.tryPut(record)) return this.produce(r.userId, r.key, record, r.command.type, false)
      const existing = await this.store.getIdempotency(r.userId, r.key)
      if (!existing) continue // expired in between: the next put may win
      if (existing.operation !== record.operation || existing.requestHash !== record.requestHash) {
        throw new ApiError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for another request',
          [{ field: 'headers.idempotency-key', code: 'reused', message: 'used before with another operation or body' }])
      }
      if (existing.state === 'done') return { id: existing.resourceId, replayed: true }
      if (existing.leaseUntil <= Date.now()) {
        const lease = Date.now() + this.o.leaseMs
        try {
          await this.store.moveIdempotencyLease(r.userId, r.key, existing.leaseUntil, lease)
        } catch (err) {
          if (err instanceof ConditionFailed) continue
          throw err
        }
        this.log.info('api_idempotency_takeover', { userId: r.userId, operation: r.operation, resourceId: existing.resourceId })
        return this.produce(r.userId, r.key, { ...existing, leaseUntil: lease }, existing.operation, true)
      }
      if (Date.now() > waitUntil || attempt > 1000) {
        throw new ApiError(409, 'idempotency_in_progress', 'a request with this Idempotency-Key is still being processed', [], 1)
      }
      await Bun.sleep(Math.min(50, Math.max(1, existing.leaseUntil - Date.now())))
    }
  }

  private async tryPut (record: IdempotencyRecord): Promise<boolean> {
    try {
      await this.store.putIdempotency(record)
      return true
    } catch (err) {
      if (err instanceof ConditionFailed) return false
      throw err
    }
  }

  private async produce (userId: string, key: string, record: IdempotencyRecord, type: string, replayed: boolean): Promise<Created> {
    try {
      await this.commands.sendEncoded(userId, type, record.command)
    } catch (err) {
      // Let the client's retry take over at once (it re-sends these same bytes).
      await this.store.moveIdempotencyLease(userId, key, record.leaseUntil, Date.now()).catch(() => {})
      throw err
    }
    // Best effort: if this write fails the record stays pending and a retry re-sends the same command.
    await this.store.markIdempotencyDone(userId, key)
      .catch(error => this.log.warn('api_idempotency_mark_failed', { userId, error }))
    return { id: record.resourceId, replayed }
  }
}

/** sha256 of the body's JSON with object keys sorted, so key order does not matter. */
export function hashOf (value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex')
}

function canonical (v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter(k => (v as Record<string, unknown>)[k] !== undefined)
      .map(k => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}
