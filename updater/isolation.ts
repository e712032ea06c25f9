import type { FoldCommand } from '../shared/domain/fold.ts'
import { DynamoRefusedError } from './errors.ts'

/**
 * Poison isolation: a batch whose DynamoDB work is refused for good (DynamoRefusedError) is
 * narrowed down to the command that causes it, as Lambda's event-source mapping bisects a failing
 * batch, so every other user's commands are applied and the partition moves on.
 *
 * `step` loads, folds and writes a group of users' commands from what the table holds now, and
 * throws DynamoRefusedError when a request of it is refused. The batch is first run whole; when
 * refused, its users are run in halves, recursively, down to the single users that are refused;
 * then each such user's commands in prefixes (bisecting the longest prefix that is taken), down to
 * the first command whose fold is refused. That command is refused; the user's later commands of
 * the batch are not tried (per-key order: within one user, stop at the first failure).
 *
 * What a refused step can leave: a refused request writes nothing (DynamoDB validates a
 * BatchWriteItem whole before applying any of it), and items over DynamoDB's limits are refused by
 * DynamoIo before any request of the step is sent (item-limits.ts), so for those causes a refused
 * step writes nothing at all. Any other refusal may come after other requests of the step were
 * applied. Each step folds from a fresh read, so the next step completes what a refused one left
 * of the users it applies (replay idempotency: items remember the offset of the last command
 * applied). Of the refused user, items written so stay as that step folded them: whole images of
 * that user's own commands in order, the refused one and later ones included, under that user's
 * partition key only; later commands fold on top of them as on any state and no other user's item
 * is touched (README, known limitations).
 * Transient failures (DynamoRequestError and the rest) are thrown unchanged: the batch stalls and
 * is retried whole, as without poison.
 */
export interface UserCommands { userId: string, commands: FoldCommand[] }

export interface Refusal {
  userId: string
  /** The command refused. */
  offset: number
  /** The user's later commands of the batch, not tried (in order). */
  blocked: number[]
  error: DynamoRefusedError
}

export interface IsolationIo<R> {
  /** Load, fold and write these users' commands; DynamoRefusedError when refused for good. */
  step: (group: UserCommands[]) => Promise<R>
  /**
   * Users found refused by earlier attempts of the same batch (added to as they are found): they
   * are narrowed down alone at once, so an attempt retried (past its deadline, after a transient
   * error) does not bisect the whole batch again and again converges.
   */
  refused?: Set<string>
}

export interface IsolationResult<R> {
  /** One per step taken (the whole batch when nothing was refused). */
  steps: R[]
  refusals: Refusal[]
  /** Steps refused on the way (each cost one load, fold and write attempt). */
  refusedSteps: number
}

export async function applyIsolated<R> (io: IsolationIo<R>, users: readonly UserCommands[]): Promise<IsolationResult<R>> {
  const out: IsolationResult<R> = { steps: [], refusals: [], refusedSteps: 0 }
  const attempt = async (group: UserCommands[]): Promise<DynamoRefusedError | undefined> => {
    try {
      out.steps.push(await io.step(group))
      return undefined
    } catch (err) {
      if (!(err instanceof DynamoRefusedError)) throw err
      out.refusedSteps++
      return err
    }
  }
  const known = users.filter(u => io.refused?.has(u.userId))
  const others = known.length === 0 ? [...users] : users.filter(u => !io.refused!.has(u.userId))
  if (others.length > 0) {
    const failed = await attempt(others)
    if (failed) await byUsers(others, failed)
  }
  for (const user of known) {
    const failed = await attempt([user])
    if (failed) await byCommands(user, failed)
  }
  return out

  /** `group` was refused as a whole (with `error`). */
  async function byUsers (group: readonly UserCommands[], error: DynamoRefusedError): Promise<void> {
    if (group.length === 1) return byCommands(group[0]!, error)
    const half = Math.ceil(group.length / 2)
    for (const part of [group.slice(0, half), group.slice(half)]) {
      const e = await attempt(part)
      if (e) await byUsers(part, e)
    }
  }

  /**
   * All of `user`'s commands were refused (with `error`): apply the longest prefix that is taken.
   * Invariant: commands before `lo` are applied; [lo, hi) was refused from the table as it is now
   * when `verified`, else presumed refused (it is the rest of a run refused before `lo` moved).
   * A command is dead-lettered only after a step of it alone was refused.
   */
  async function byCommands (user: UserCommands, error: DynamoRefusedError): Promise<void> {
    const list = user.commands
    let lo = 0
    let hi = list.length
    let verified = true
    let last = error
    while (lo < list.length) {
      if (hi - lo === 1 && verified) {
        out.refusals.push({ userId: user.userId, offset: list[lo]!.offset, blocked: list.slice(lo + 1).map(c => c.offset), error: last })
        io.refused?.add(user.userId)
        return
      }
      const mid = hi - lo === 1 ? hi : lo + Math.floor((hi - lo) / 2)
      const e = await attempt([{ userId: user.userId, commands: list.slice(lo, mid) }])
      if (e) {
        hi = mid
        verified = true
        last = e
      } else {
        // The rest was refused from an older state: tried again before anything is dead-lettered.
        lo = mid
        verified = false
        if (lo === hi) hi = list.length
      }
    }
  }
}
