import type { Notification } from '../shared/schemas/notification.ts'

/**
 * Dead letters of the notifier, topic `<status topic>.dlq.notifier` (shared/kafka/topics.ts).
 * Key: the original record's key (the reservation id). Value: UTF-8 JSON
 *   { v: 1, consumer: "notifier", reason: "poison" | "webhook", detail, at (epoch ms),
 *     source: { topic, partition, offset (string) },
 *     poison:  value (the original bytes as UTF-8 if valid, else base64) and valueEncoding ("utf8" | "base64"),
 *     webhook: notification (as sent), url (never the secret), attempts, status? }
 * A webhook dead letter holds everything needed to deliver it again by hand or by a tool.
 */
export interface DeadLetter {
  v: 1
  consumer: 'notifier'
  reason: 'poison' | 'webhook'
  detail: string
  at: number
  source: { topic: string; partition: number; offset: string }
  value?: string
  valueEncoding?: 'utf8' | 'base64'
  notification?: Notification
  url?: string
  attempts?: number
  status?: number
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

export function poisonLetter(source: { topic: string; partition: number; offset: bigint }, value: Uint8Array | undefined, detail: string, at: number): DeadLetter {
  let text: string | undefined
  try {
    text = value ? utf8.decode(value) : undefined
  } catch {}
  const base = { v: 1 as const, consumer: 'notifier' as const, reason: 'poison' as const, detail, at, source: { ...source, offset: String(source.offset) } }
  if (!value) return base
  return text !== undefined ? { ...base, value: text, valueEncoding: 'utf8' } : { ...base, value: Buffer.from(value).toString('base64'), valueEncoding: 'base64' }
}

export function webhookLetter(source: { topic: string; partition: number; offset: bigint }, n: Notification, url: string, failure: { reason: string; attempts: number; status?: number }, at: number): DeadLetter {
  const letter: DeadLetter = { v: 1, consumer: 'notifier', reason: 'webhook', detail: failure.reason, at, source: { ...source, offset: String(source.offset) }, notification: n, url, attempts: failure.attempts }
  if (failure.status !== undefined) letter.status = failure.status
  return letter
}
