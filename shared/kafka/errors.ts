/** Errors of the Kafka adapter. `canRetry`: the same command may succeed later (answer 503 + Retry-After). */
export class KafkaAdapterError extends Error {
  constructor (message: string, readonly code: string, readonly canRetry: boolean, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KafkaAdapterError'
  }
}

/** Kafka did not acknowledge within the deadline: the command may or may not have been written. */
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
