import { newId } from '../shared/domain/ids.ts'
import { type Ack, type SendOptions } from '../shared/kafka/batching-producer.ts'
import { type Histogram } from '../shared/metrics/registry.ts'
import { encodeCommand, type Command, type CommandOf, type CommandType, type PayloadOf } from '../shared/schemas/command.ts'

/** What the API needs of the process's one BatchingProducer. */
export interface CommandSink {
  send (topic: string, key: string, value: string | Buffer, headers?: Record<string, string>, options?: SendOptions): Promise<Ack>
}

/**
 * Builds command envelopes (shared/schemas/command.ts) and produces them keyed by the OWNER's user
 * id, so all of one user's changes sit in order in one partition. `send` resolves once Kafka has
 * acknowledged (acks=all) within the deadline; it rejects with a KafkaAdapterError (503 +
 * Retry-After) otherwise, and then the command is never applied: every send is an expiring one
 * (its own `not-after` header, shared/kafka/expiry.ts), so a copy that lands late is dropped by the
 * updater, and an idempotent retry re-sending the same bytes gets a deadline of its own.
 */
export class Commands {
  constructor (private readonly sink: CommandSink, private readonly topic: string, private readonly latency?: Histogram) {}

  build<K extends CommandType> (type: K, userId: string, actorId: string, payload: PayloadOf<K>): CommandOf<K> {
    return { v: 1, id: newId(), type, userId, actorId, acceptedAt: Date.now(), payload } as unknown as CommandOf<K>
  }

  /** Encodes (validating against the schema) and produces; resolves on Kafka's ack. */
  async send (command: Command): Promise<void> {
    await this.sendEncoded(command.userId, command.type, encodeCommand(command))
  }

  /** Produces an already encoded command (an idempotent retry re-sends the stored bytes). */
  async sendEncoded (userId: string, type: string, value: string): Promise<void> {
    const t0 = performance.now()
    let outcome = 'ok'
    try {
      await this.sink.send(this.topic, userId, value, undefined, { expires: true })
    } catch (err) {
      outcome = (err as { code?: string }).code ?? 'error'
      throw err
    } finally {
      this.latency?.observe({ type, outcome }, (performance.now() - t0) / 1000)
    }
  }
}
