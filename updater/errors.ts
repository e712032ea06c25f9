/**
 * Errors of the updater, one base with a `code` from one list and a `canRetry` flag: a retriable
 * failure stalls the partition (it retries its batch in hand later), never skips work.
 */
export const UPDATER_ERROR_CODES = ['dynamodb_write_failed', 'dynamodb_read_failed', 'dynamodb_refused', 'lease_lost', 'lease_refused', 'produce_failed', 'batch_abandoned', 'stopped'] as const
export type UpdaterErrorCode = (typeof UPDATER_ERROR_CODES)[number]

export class UpdaterError extends Error {
  constructor (message: string, readonly code: UpdaterErrorCode, readonly canRetry: boolean, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'UpdaterError'
  }
}

/** DynamoDB did not take a request within the attempts allowed: the batch is not (fully) written. */
export class DynamoRequestError extends UpdaterError {
  constructor (op: 'write' | 'read', readonly attempts: number, readonly lastReason: string, cause?: unknown) {
    super(`DynamoDB ${op} failed after ${attempts} attempts (last: ${lastReason})`, op === 'write' ? 'dynamodb_write_failed' : 'dynamodb_read_failed', true, { cause })
    this.name = 'DynamoRequestError'
  }
}

/**
 * DynamoDB refused a request for good (ValidationException: item too large, key too long, bad
 * attribute; ItemCollectionSizeLimitExceededException; SerializationException): sending it again
 * can never succeed, so it is not retried. Not a reason to stall: the batch narrows the refusal
 * down to the commands that caused it (see isolation.ts) and dead-letters them.
 */
export class DynamoRefusedError extends UpdaterError {
  constructor (readonly op: 'write' | 'read', readonly errorName: string, cause?: unknown) {
    super(`DynamoDB refused a ${op} for good (${errorName}: ${String((cause as Error | undefined)?.message ?? '').slice(0, 300)})`, 'dynamodb_refused', false, { cause })
    this.name = 'DynamoRefusedError'
  }
}

/** This updater no longer holds the partition's lease: it must not write. Carries the record that won, if known. */
export class LeaseLostError extends UpdaterError {
  constructor (readonly partition: number, readonly holder?: { owner: string, epoch: number }) {
    super(`lease of partition ${partition} lost${holder ? ` to ${holder.owner} (epoch ${holder.epoch})` : ''}`, 'lease_lost', false)
    this.name = 'LeaseLostError'
  }
}

/** Another live updater holds the partition's lease. */
export class LeaseRefusedError extends UpdaterError {
  constructor (readonly partition: number, readonly holder: { owner: string, epoch: number, leaseUntil: number }) {
    super(`partition ${partition} is held by ${holder.owner} (epoch ${holder.epoch}) until ${new Date(holder.leaseUntil).toISOString()}`, 'lease_refused', true)
    this.name = 'LeaseRefusedError'
  }
}

/**
 * The batch attempt this write belonged to was given up (its deadline passed) and another attempt
 * of the same batch may be running: it must not send anything more.
 */
export class BatchAbandonedError extends UpdaterError {
  constructor (readonly partition: number) {
    super(`an abandoned attempt of a batch of partition ${partition} stopped before writing`, 'batch_abandoned', false)
    this.name = 'BatchAbandonedError'
  }
}

export class StoppedError extends UpdaterError {
  constructor () { super('the updater is stopping', 'stopped', false) }
}
