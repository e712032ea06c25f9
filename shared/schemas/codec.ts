import type { TSchema, Static } from '@sinclair/typebox'
import type { TypeCheck } from '@sinclair/typebox/compiler'

/**
 * Shared JSON wire codec for Kafka messages. Decoding never throws: poison
 * messages become `{ ok: false, reason }` so a consumer can dead-letter them
 * and move on; encoding throws, since an invalid outgoing message is a bug.
 */

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string }

/** Larger values are refused before parsing (Kafka messages here are ~1 KB). */
export const MAX_MESSAGE_BYTES = 256 * 1024

const utf8 = new TextDecoder('utf-8', { fatal: true })

export function parseJson(input: unknown): Decoded<unknown> {
  try {
    let text: string
    if (typeof input === 'string') text = input
    else if (input instanceof Uint8Array) {
      if (input.byteLength > MAX_MESSAGE_BYTES) return { ok: false, reason: 'message too large' }
      text = utf8.decode(input)
    } else return { ok: false, reason: 'message is neither a string nor bytes' }
    if (text.length > MAX_MESSAGE_BYTES) return { ok: false, reason: 'message too large' }
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` }
  }
}

/** First schema error as `path: message`, bounded so logs stay small. */
export function firstError(check: TypeCheck<TSchema>, value: unknown): string {
  const first = check.Errors(value).First()
  const text = first ? `${first.path || '/'}: ${first.message}` : 'does not match the schema'
  return text.slice(0, 300)
}

export function decodeWith<S extends TSchema>(check: TypeCheck<S>, input: unknown): Decoded<Static<S>> {
  const parsed = parseJson(input)
  if (!parsed.ok) return parsed
  try {
    if (check.Check(parsed.value)) return { ok: true, value: parsed.value }
    return { ok: false, reason: firstError(check, parsed.value) }
  } catch (error) {
    return { ok: false, reason: `check failed: ${error instanceof Error ? error.message : String(error)}` }
  }
}

/** Thrown by encoders when the message would not pass its own decoder. */
export class MessageSchemaError extends Error {
  readonly code = 'message_schema'
  constructor(
    readonly schema: string,
    readonly reason: string,
  ) {
    super(`${schema} message invalid: ${reason}`)
    this.name = 'MessageSchemaError'
  }
}

export function encodeWith<S extends TSchema>(name: string, check: TypeCheck<S>, value: Static<S>): string {
  if (!check.Check(value)) throw new MessageSchemaError(name, firstError(check, value))
  return JSON.stringify(value)
}
