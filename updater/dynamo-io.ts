import { BatchGetCommand, BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { liveQuery } from '../shared/dynamo/live-reads.ts'
import { backoffDelay, type BackoffPolicy } from './backoff.ts'
import { DynamoRefusedError, DynamoRequestError } from './errors.ts'
import { itemLimitBroken } from './item-limits.ts'

/**
 * The updater's DynamoDB I/O: BatchWriteItem (25 items a request, one write per key per
 * request), consistent BatchGetItem (100 keys a request) and index Queries, with a bounded number
 * of requests in flight per process. Throttling, UnprocessedItems/UnprocessedKeys, 5xx and
 * network errors or timeouts are retried with exponential backoff and full jitter up to
 * `retry.maxAttempts` per request; then DynamoRequestError (canRetry): the caller stalls the
 * partition and never commits past it. A request refused for good (refusalOf) is not retried:
 * DynamoRefusedError (not canRetry), which the batch narrows down to the commands that caused it.
 * Any other error (unknown, access denied, table missing) is DynamoRequestError too: it stalls,
 * since it is no particular record's fault. The SDK's own retries must be off (maxAttempts 1) so
 * this is the one retry loop.
 */
export type Item = Record<string, unknown>
export interface Key { pk: string, sk: string }

export interface DynamoIoOptions {
  table: string
  concurrency: number
  retry: BackoffPolicy
  /**
   * After a write whose outcome is unknown (timeout, reset), how long to wait before checking what
   * the table holds: the abandoned request may still be applied by the server after our retry
   * succeeded, putting an older image back. 0 skips the check (unit tests that need no timing).
   */
  settleMs?: number
}

export interface DynamoIoStats {
  /** One per request sent (attempt), with its latency. */
  onRequest?: (op: 'write' | 'read' | 'query', seconds: number, ok: boolean) => void
  /** One per retry, with why. */
  onRetry?: (op: 'write' | 'read' | 'query', reason: RetryReason) => void
  /** Items found overwritten by an abandoned (timed-out) write, and put again. */
  onRepaired?: (items: number) => void
}

export type RetryReason = 'unprocessed' | 'throttled' | 'server_error' | 'network'

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'LimitExceededException'])
const SERVER = new Set(['InternalServerError', 'ServiceUnavailable', 'InternalFailure'])
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ConnectionRefused', 'ECONNABORTED'])

/**
 * Errors caused by what a request carries (an item over 400 KB, a key over its size limit, a bad
 * attribute value, an item collection over 10 GB): the same request is refused every time. By the
 * SDK's error name, and only when the service blamed the client ($fault). Configuration errors
 * (AccessDenied, ResourceNotFound, a table without the expected key schema) are left out on
 * purpose: they are nobody's record, and dead-lettering every command on them would lose them all.
 * A ValidationException from a wrong table or key schema would also refuse the lease's writes to
 * the same table, so a partition that holds its lease does not see those.
 */
const REFUSED = new Set(['ValidationException', 'ItemCollectionSizeLimitExceededException', 'SerializationException'])

/** The SDK's error name when the request is refused for good (see REFUSED); undefined otherwise. Pure. */
export function refusalOf (err: unknown): string | undefined {
  const e = err as { name?: string, $fault?: string }
  if (!e || typeof e !== 'object' || !e.name || !REFUSED.has(e.name)) return undefined
  return e.$fault === undefined || e.$fault === 'client' ? e.name : undefined
}

/** Whether a failed request may succeed if sent again, and why; undefined: it never will. Pure. */
export function retryReason (err: unknown): RetryReason | undefined {
  const e = err as { name?: string, code?: string, $metadata?: { httpStatusCode?: number }, message?: string, cause?: unknown }
  if (!e || typeof e !== 'object') return undefined
  if (e.name && THROTTLING.has(e.name)) return 'throttled'
  if ((e.name && SERVER.has(e.name)) || (e.$metadata?.httpStatusCode ?? 0) >= 500) return 'server_error'
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || (e.code && NETWORK_CODES.has(e.code))) return 'network'
  if (/socket hang up|ECONNRE|connect|timed? ?out|closed/i.test(e.message ?? '')) return 'network'
  if (e.cause) return retryReason(e.cause)
  return undefined
}

/** A counting semaphore: at most `limit` holders. */
export class Semaphore {
  private active = 0
  private readonly waiting: Array<() => void> = []
  constructor (private readonly limit: number) {}
  async run<T> (fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>(resolve => this.waiting.push(resolve))
    else this.active++
    try {
      return await fn()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.active--
    }
  }
}

export function chunks<T> (list: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size))
  return out
}

/** Thrown to a chunk of a write stopped because another chunk of the same call failed (never escapes). */
const siblingFailed = new Error('another chunk of this write failed')

const keyOf = (i: { pk?: unknown, sk?: unknown }) => `${String(i.pk)}\u0000${String(i.sk)}`

/** Same attributes and values, whatever the key order. */
export function sameImage (a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b)
}

function canonical (v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map(k => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  return JSON.stringify(v) ?? 'undefined'
}

export class DynamoIo {
  private readonly gate: Semaphore
  constructor (
    private readonly db: DynamoDBDocumentClient,
    private readonly opts: DynamoIoOptions,
    private readonly stats: DynamoIoStats = {},
    private readonly sleep: (ms: number) => Promise<void> = ms => Bun.sleep(ms)
  ) {
    this.gate = new Semaphore(opts.concurrency)
  }

  /**
   * Writes full images (Put). Keys must be unique across `items` (the fold gives one image per
   * key); a duplicate is a bug and throws before anything is sent. An item over DynamoDB's limits
   * (item-limits.ts) throws DynamoRefusedError before anything is sent too: a call refused for that
   * reason writes nothing, where DynamoDB would refuse only the request holding it, after other
   * requests of the call were applied. `guard` runs before every attempt and throws to stop
   * writing (lease lost, attempt abandoned). Returns the number of requests sent.
   *
   * `unsettled` holds, by key, the image last meant for every key sent in a request whose outcome
   * is unknown (it may still land). Pass the same map to every attempt of one batch: a key an
   * earlier, abandoned attempt left unsettled is then checked by the attempt that completes, and
   * expects that attempt's image if it writes the key again. The map is empty once this returns.
   */
  async putAll (items: readonly Item[], guard: () => void = () => {}, unsettled = new Map<string, Item>()): Promise<number> {
    for (const item of items) {
      const broken = itemLimitBroken(item)
      if (broken) throw new DynamoRefusedError('write', broken.name, Object.assign(new Error(broken.message), { name: broken.name }))
    }
    const seen = new Set<string>()
    for (const item of items) {
      const k = keyOf(item)
      if (seen.has(k)) throw new Error(`duplicate key in one write: ${k.replace('\u0000', ' / ')}`)
      seen.add(k)
      if (unsettled.has(k)) unsettled.set(k, item)
    }
    let requests = 0
    // The first chunk that fails stops the others at their next attempt, and this returns only
    // once none has a request in flight: a retry of the batch must never write beside this call.
    let failure: { error: unknown } | undefined
    const chunkGuard = () => {
      if (failure) throw siblingFailed
      guard()
    }
    await Promise.all(chunks(items, 25).map(chunk => this.gate.run(async () => {
      let pending = chunk.map(Item => ({ PutRequest: { Item } }))
      try {
        await this.withRetry('write', chunkGuard, async () => {
          requests++
          try {
            const res = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.opts.table]: pending } }))
            const left = res.UnprocessedItems?.[this.opts.table] ?? []
            pending = left as typeof pending
            return left.length === 0
          } catch (err) {
            if (retryReason(err) === 'network') for (const w of pending) unsettled.set(keyOf(w.PutRequest.Item), w.PutRequest.Item)
            throw err
          }
        })
      } catch (error) {
        failure ??= { error }
      }
    })))
    if (failure) throw failure.error
    if (unsettled.size > 0 && (this.opts.settleMs ?? 0) > 0) requests += await this.repair(unsettled, guard)
    unsettled.clear()
    return requests
  }

  /**
   * A timed-out BatchWriteItem may be applied by the server after its retry succeeded, and a
   * BatchWriteItem takes no condition to refuse an older image. So once such a request has had
   * time to land (settleMs), read back its keys and put again every item that is not the image
   * meant. Until this returns, the batch is not done and nothing is committed past it, so no
   * later image of these keys can exist yet: any difference is a stale write.
   */
  private async repair (unsettled: Map<string, Item>, guard: () => void): Promise<number> {
    await this.sleep(this.opts.settleMs!)
    guard()
    const meant = [...unsettled.values()]
    const stored = new Map((await this.getAll(meant.map(i => ({ pk: String(i.pk), sk: String(i.sk) })))).map(i => [keyOf(i), i]))
    const stale = meant.filter(i => !sameImage(stored.get(keyOf(i)), i))
    if (stale.length === 0) return 0
    this.stats.onRepaired?.(stale.length)
    try {
      return await this.putAll(stale, guard)
    } catch (err) {
      if (!(err instanceof DynamoRefusedError)) throw err
    }
    // One of them is refused for good (the batch narrows such writes down). An image DynamoDB
    // refuses never lands, so it has nothing to repair: put the others one by one, so that a write
    // refused in one step never makes every later step of the batch refused too.
    let requests = 0
    for (const item of stale) {
      try {
        requests += await this.putAll([item], guard)
      } catch (err) {
        if (!(err instanceof DynamoRefusedError)) throw err
      }
    }
    return requests
  }

  /** Consistent reads by key; absent keys are simply missing from the result. */
  async getAll (keys: readonly Key[]): Promise<Item[]> {
    const unique = [...new Map(keys.map(k => [keyOf(k), { pk: k.pk, sk: k.sk }])).values()]
    const out: Item[] = []
    await Promise.all(chunks(unique, 100).map(chunk => this.gate.run(async () => {
      let pending: Key[] = chunk
      await this.withRetry('read', () => {}, async () => {
        const res = await this.db.send(new BatchGetCommand({ RequestItems: { [this.opts.table]: { Keys: pending, ConsistentRead: true } } }))
        for (const item of res.Responses?.[this.opts.table] ?? []) out.push(item)
        pending = (res.UnprocessedKeys?.[this.opts.table]?.Keys ?? []) as Key[]
        return pending.length === 0
      })
    })))
    return out
  }

  /** Every item of one index partition (paginated), optionally bounded above on the sort key. */
  async queryIndex (index: { name: string, pk: string, sk?: string }, pkValue: string, skAtMost?: string): Promise<Item[]> {
    const out: Item[] = []
    let start: Record<string, unknown> | undefined
    do {
      await this.gate.run(() => this.withRetry('query', () => {}, async () => {
        const bounded = skAtMost !== undefined && index.sk !== undefined
        const res = await this.db.send(new QueryCommand({
          TableName: this.opts.table,
          IndexName: index.name,
          KeyConditionExpression: bounded ? '#pk = :pk AND #sk <= :sk' : '#pk = :pk',
          ExpressionAttributeNames: bounded ? { '#pk': index.pk, '#sk': index.sk! } : { '#pk': index.pk },
          ExpressionAttributeValues: bounded ? { ':pk': pkValue, ':sk': skAtMost } : { ':pk': pkValue },
          ExclusiveStartKey: start
        }))
        out.push(...(res.Items ?? []))
        start = res.LastEvaluatedKey
        return true
      }))
    } while (start)
    return out
  }

  /**
   * Every row of the `live` local index under one user whose sort key starts with `skPrefix`
   * (paginated), read strongly consistent (a local index allows it): a trip's live reservations.
   * An empty prefix reads the user's whole index (every live reservation and trip).
   */
  async queryLive (pkValue: string, skPrefix: string): Promise<Item[]> {
    const out: Item[] = []
    await this.pagesOfLive(pkValue, skPrefix, false, undefined, res => { out.push(...(res.Items ?? [])) })
    return out
  }

  /** How many rows of the `live` index under one user start with `skPrefix` (and have `status`, if given); consistent, paginated. */
  async countLive (pkValue: string, skPrefix: string, status?: string): Promise<number> {
    let n = 0
    await this.pagesOfLive(pkValue, skPrefix, true, status, res => { n += res.Count ?? 0 })
    return n
  }

  private async pagesOfLive (pkValue: string, skPrefix: string, count: boolean, status: string | undefined, page: (res: { Items?: Item[], Count?: number }) => void): Promise<void> {
    let start: Record<string, unknown> | undefined
    do {
      await this.gate.run(() => this.withRetry('query', () => {}, async () => {
        const res = await this.db.send(new QueryCommand(liveQuery(this.opts.table, pkValue, skPrefix, { status, count, start })))
        page(res)
        start = res.LastEvaluatedKey
        return true
      }))
    } while (start)
  }

  /** Runs `attempt` until it reports done; retriable failures and partial results back off. */
  private async withRetry (op: 'write' | 'read' | 'query', guard: () => void, attempt: () => Promise<boolean>): Promise<void> {
    const policy = this.opts.retry
    let last: RetryReason = 'unprocessed'
    let lastError: unknown
    for (let n = 0; n < policy.maxAttempts; n++) {
      if (n > 0) {
        this.stats.onRetry?.(op, last)
        await this.sleep(backoffDelay(policy, n - 1))
      }
      guard()
      const t0 = performance.now()
      try {
        const done = await attempt()
        this.stats.onRequest?.(op, (performance.now() - t0) / 1000, true)
        if (done) return
        last = 'unprocessed'
      } catch (err) {
        this.stats.onRequest?.(op, (performance.now() - t0) / 1000, false)
        const refused = refusalOf(err)
        if (refused) throw new DynamoRefusedError(op === 'write' ? 'write' : 'read', refused, err)
        const reason = retryReason(err)
        if (!reason) throw new DynamoRequestError(op === 'write' ? 'write' : 'read', n + 1, (err as Error)?.name ?? String(err), err)
        last = reason
        lastError = err
      }
    }
    throw new DynamoRequestError(op === 'write' ? 'write' : 'read', policy.maxAttempts, last, lastError)
  }
}
