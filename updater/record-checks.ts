import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { Command } from '../shared/schemas/command.ts'
import { UserId } from '../shared/schemas/ids.ts'

/**
 * Checks on a command record before anything of it reaches DynamoDB: its Kafka key is the owner's
 * user id (the partition key of everything the user owns), so a key that is no user id (too long
 * for a DynamoDB key, odd characters) or that names another user than the command would make the
 * updater read or write keys it must not. Such a record is poison: dead-lettered, never folded.
 */
export type PoisonKind = 'no_key' | 'bad_key' | 'undecodable' | 'key_mismatch'

export interface Poison { kind: PoisonKind, reason: string }

const userIdCheck = TypeCompiler.Compile(UserId)
/** Longest key worth decoding: a user id is at most 64 ASCII characters. */
const MAX_KEY_BYTES = 64

/** Why the record's key cannot be an owner's user id, or undefined when it can. Pure. */
export function keyProblem (key: Buffer | null | undefined): Poison | undefined {
  if (!key || key.length === 0) return { kind: 'no_key', reason: 'message has no key (the owner user id)' }
  // The key is never echoed: it is the dead letter's own key, and may be kilobytes long.
  if (key.length > MAX_KEY_BYTES) return { kind: 'bad_key', reason: `key of ${key.length} bytes is not a user id (at most ${MAX_KEY_BYTES} characters A-Z a-z 0-9 _ -)` }
  if (!userIdCheck.Check(key.toString('utf8'))) return { kind: 'bad_key', reason: 'key is not a user id (1 to 64 characters A-Z a-z 0-9 _ -)' }
  return undefined
}

/** Why a decoded command does not belong under `key`, or undefined when it does. Pure. */
export function ownerProblem (key: string, command: Command): Poison | undefined {
  if (command.userId === key) return undefined
  return { kind: 'key_mismatch', reason: `message key ${key} is not the command's userId ${command.userId}` }
}
