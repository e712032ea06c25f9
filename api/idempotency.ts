import { createHash } from 'node:crypto'
import { type Logger } from '../shared/log/logger.ts'
import { encodeCommand, type Command } from '../shared/schemas/command.ts'
import { userPk } from '../shared/domain/keys.ts'
import { ApiError } from './errors.ts'
import { type Commands } from './commands.ts'
import { sendOnce, unlessTaken, type SendOnceIo } from './send-once.ts'
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
 * Idempotent creates: the record `U#<user>` / `IDEM#<key>` drives the send-once protocol
 * (api/send-once.ts): first request produces, a retry after success answers the same id with
 * nothing produced, a retry after a failed produce re-sends the SAME command (same reservation id,
 * same command id). If the first send had landed after all, the updater sees a create of an item
 * this same command created and skips it (the item keeps `createdBy`), so nothing is created twice;
 * deleting the record instead could create a second resource. Same key with another operation or
 * body: 422 `idempotency_key_reused`. Expired records (expiresAt, epoch s) are ignored by readers
 * and overwritten by the put.
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
    const key = r.key
    const io: SendOnceIo<IdempotencyRecord> = {
      get: () => this.store.getIdempotency(r.userId, key),
      put: rec => unlessTaken(() => this.store.putIdempotency(rec), taken),
      moveLease: (expected, until) => unlessTaken(() => this.store.moveIdempotencyLease(r.userId, key, expected, until), taken),
      markDone: () => this.store.markIdempotencyDone(r.userId, key)
    }
    const out = await sendOnce(io, record, {
      leaseMs: this.o.leaseMs,
      conflict: existing => existing.operation !== record.operation || existing.requestHash !== record.requestHash
        ? new ApiError(422, 'idempotency_key_reused', 'this Idempotency-Key was used for another request',
          [{ field: 'headers.idempotency-key', code: 'reused', message: 'used before with another operation or body' }])
        : undefined,
      send: rec => this.commands.sendEncoded(r.userId, rec.operation, rec.command),
      inProgress: 'a request with this Idempotency-Key is still being processed',
      onTakeover: existing => this.log.info('api_idempotency_takeover', { userId: r.userId, operation: r.operation, resourceId: existing.resourceId }),
      onMarkFailed: error => this.log.warn('api_idempotency_mark_failed', { userId: r.userId, error })
    })
    return { id: out.record.resourceId, replayed: out.replayed }
  }
}

const taken = (err: unknown) => err instanceof ConditionFailed

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
