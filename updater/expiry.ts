import { judgeRecord, NOT_AFTER_HEADER, parseNotAfter, type Expiry } from '../shared/kafka/expiry.ts'
import type { ReadRecord } from './partition-reader.ts'

/**
 * Whether a command record may still be applied: one carrying a `not-after` header that the broker
 * appended after it is expired (the API answered 503 for it). The rule is shared/kafka/expiry.ts's.
 */
export function recordExpiry (r: Pick<ReadRecord, 'appendTime' | 'headers'>): Expiry {
  return judgeRecord(parseNotAfter(headerValue(r.headers, NOT_AFTER_HEADER)), r.appendTime)
}

/** The last value of a header (as the Java client's `lastHeader`), undefined when absent. */
function headerValue (headers: ReadRecord['headers'], name: string): string | undefined {
  let value: string | undefined
  for (const [k, v] of headers ?? []) if (k?.toString('utf8') === name) value = v?.toString('utf8') ?? ''
  return value
}
