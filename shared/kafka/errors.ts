/** Errors of the Kafka adapter. `canRetry`: the same command may succeed later (answer 503 + Retry-After). */
export class KafkaAdapterError extends Error {
  constructor (message: string, readonly code: string, readonly canRetry: boolean, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KafkaAdapterError'
  }
}

/**
 * Kafka did not acknowledge within the deadline: the message may or may not have been written (an
 * expiring send that lands now is past its deadline: its consumer drops it, see expiry.ts).
 */
export class ProduceTimeoutError extends KafkaAdapterError {
  constructor (deadlineMs: number) { super(`Kafka did not acknowledge within ${deadlineMs} ms`, 'PRODUCE_TIMEOUT', true) }
}

/** The send failed: the command was not acknowledged. */
export class ProduceFailedError extends KafkaAdapterError {
  constructor (cause: unknown) { super(`Kafka rejected the send: ${(cause as Error)?.message ?? cause}`, 'PRODUCE_FAILED', true, { cause }) }
}

export class ProducerClosedError extends KafkaAdapterError {
  constructor () { super('the producer is closed', 'PRODUCER_CLOSED', true) }
}

/** Too many sends waiting: shed load instead of growing the queue past its deadline. */
export class ProducerOverloadedError extends KafkaAdapterError {
  constructor (queued: number) { super(`${queued} messages already waiting for Kafka`, 'PRODUCER_OVERLOADED', true) }
}

/**
 * Acknowledged, but appended after the send's `not-after` deadline (expiry.ts): the consumer drops
 * it, so it was not written as far as the caller is concerned.
 */
export class ProduceExpiredError extends KafkaAdapterError {
  constructor (appendTime: number, notAfter: number) {
    super(`Kafka appended the message at ${appendTime}, ${appendTime - notAfter} ms past its deadline ${notAfter}`, 'PRODUCE_EXPIRED', true)
  }
}
