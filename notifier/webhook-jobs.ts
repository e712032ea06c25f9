import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { decodeWith, encodeWith } from '../shared/schemas/codec.ts'
import { Notification } from '../shared/schemas/notification.ts'

/**
 * One webhook attempt to make, topic `<status topic>.webhooks` (shared/kafka/topics.ts).
 *
 * Wire format: Kafka key = the user id, value = UTF-8 JSON of WebhookJob:
 *   { v: 1, notification (as sent, its id is X-RoadWarrior-Delivery), attempt (1, 2, ...),
 *     notBefore (epoch ms: the attempt waits until then), source: the status record it came from,
 *     lastReason?: why the previous attempt failed }
 * The URL and the secret are not in the job: they are read from the user's settings at each
 * attempt (a changed or removed webhook applies to what is still queued; no secret on Kafka).
 * The status lane writes attempt 1; the webhook lane writes attempt n+1 when attempt n asks for a
 * retry, before marking n done: a retry never waits inside a partition's lane.
 */
export const WebhookJob = Type.Object(
  {
    v: Type.Literal(1),
    notification: Notification,
    attempt: Type.Integer({ minimum: 1, maximum: 100 }),
    notBefore: Type.Integer({ minimum: 0 }),
    source: Type.Object({ topic: Type.String({ maxLength: 300 }), partition: Type.Integer({ minimum: 0 }), offset: Type.String({ pattern: '^[0-9]{1,20}$' }) }, { additionalProperties: false }),
    lastReason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
)
export type WebhookJob = Static<typeof WebhookJob>

const check = TypeCompiler.Compile(WebhookJob)

export function decodeWebhookJob(input: Uint8Array | string) {
  return decodeWith(check, input)
}

export function encodeWebhookJob(job: WebhookJob): string {
  return encodeWith('webhook job', check, job)
}
