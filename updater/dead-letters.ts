/**
 * Dead letters of the updater, topic `<command topic>.dlq.updater` (deadLetterTopic()).
 *
 * Wire format: key = the original key (empty if it had none), value = the original value bytes,
 * unchanged, so a fixed command can be re-sent as is; headers (UTF-8):
 *   dlq-reason            human-readable reason (schema error path and message, or the fold's refusal)
 *   dlq-code              `poison` (no key, a key that is no user id or not the command's userId, or a
 *                         value that did not decode or validate), the fold's reject code,
 *                         `write_refused` (DynamoDB refused the command's write for good: reason is
 *                         the error) or `write_blocked` (not tried: the same user's earlier command
 *                         of the batch was refused; re-send it after the refused one is dealt with)
 *   dlq-origin-topic      topic the command was read from
 *   dlq-origin-partition  its partition
 *   dlq-origin-offset     its offset
 *   dlq-consumer          `updater`
 *   dlq-command-id        the command id, when the command decoded
 * A replay after a crash may send the same dead letter again (at-least-once, same content).
 */
export interface DeadLetter {
  key: string
  value: Buffer
  headers: Record<string, string>
}

export interface Origin { topic: string, partition: number, offset: number }

export function deadLetter (origin: Origin, key: Buffer | null, value: Buffer | null, code: string, reason: string, commandId?: string): DeadLetter {
  const headers: Record<string, string> = {
    'dlq-reason': reason.slice(0, 1000),
    'dlq-code': code,
    'dlq-origin-topic': origin.topic,
    'dlq-origin-partition': String(origin.partition),
    'dlq-origin-offset': String(origin.offset),
    'dlq-consumer': 'updater'
  }
  if (commandId) headers['dlq-command-id'] = commandId
  return { key: key ? key.toString('utf8') : '', value: value ?? Buffer.alloc(0), headers }
}
