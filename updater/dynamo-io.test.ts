import { describe, expect, spyOn, test } from 'bun:test'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { DynamoIo, refusalOf, retryReason } from './dynamo-io.ts'
import { DynamoRefusedError, DynamoRequestError, LeaseLostError } from './errors.ts'

type Sent = { RequestItems: Record<string, Array<{ PutRequest: { Item: { pk: string, sk: string } } }>> }
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ pk: `U#u${i % 7}`, sk: `RES#${i}` }))
const policy = { maxAttempts: 4, baseMs: 1, maxMs: 2 }

function fakeDb (answer: (input: Sent, call: number) => unknown) {
  const calls: Sent[] = []
  let inFlight = 0
  let maxInFlight = 0
  const db = {
    send: async (cmd: { input: Sent }) => {
      calls.push(structuredClone(cmd.input))
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await Bun.sleep(2)
      inFlight--
      const out = answer(cmd.input, calls.length - 1)
      if (out instanceof Error) throw out
      return out
    }
  } as unknown as DynamoDBDocumentClient
  return { db, calls, maxInFlight: () => maxInFlight }
}

const err = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } })

describe('DynamoIo.putAll', () => {
  test('25 items a request, every key once, several requests in flight but no more than the limit', async () => {
    const f = fakeDb(() => ({}))
    const io = new DynamoIo(f.db, { table: 't', concurrency: 3, retry: policy }, {}, async () => {})
    expect(await io.putAll(items(130))).toBe(6)
    expect(f.calls.map(c => c.RequestItems.t!.length)).toEqual([25, 25, 25, 25, 25, 5])
    expect(f.maxInFlight()).toBe(3)
    const keys = f.calls.flatMap(c => c.RequestItems.t!.map(w => `${w.PutRequest.Item.pk}|${w.PutRequest.Item.sk}`))
    expect(new Set(keys).size).toBe(130)
  })

  test('UnprocessedItems are sent again, alone, until none are left', async () => {
    const f = fakeDb((input, call) => call < 2 ? { UnprocessedItems: { t: input.RequestItems.t!.slice(1) } } : {})
    const retries: string[] = []
    const io = new DynamoIo(f.db, { table: 't', concurrency: 1, retry: policy }, { onRetry: (_op, r) => retries.push(r) }, async () => {})
    await io.putAll(items(3))
    expect(f.calls.map(c => c.RequestItems.t!.length)).toEqual([3, 2, 1])
    expect(retries).toEqual(['unprocessed', 'unprocessed'])
  })

  test('throttling, 5xx and timeouts are retried with growing delays; the limit ends in DynamoRequestError', async () => {
    const failures = [err('ProvisionedThroughputExceededException', 400), err('InternalServerError', 500), err('TimeoutError'), err('ThrottlingException', 400), err('ServiceUnavailable', 503)]
    const f = fakeDb((_, call) => failures[call]!)
    const delays: number[] = []
    const reasons: string[] = []
    const io = new DynamoIo(f.db, { table: 't', concurrency: 1, retry: { maxAttempts: 5, baseMs: 100, maxMs: 10_000 } }, { onRetry: (_op, r) => reasons.push(r) }, async ms => { delays.push(ms) })
    // Full jitter draws each delay below its cap: with the draw at the top, the delays are the
    // caps themselves, which must double (a delay of 0 or a fixed one would not).
    const random = spyOn(Math, 'random').mockReturnValue(0.999)
    const e = await io.putAll(items(2)).catch(x => x).finally(() => random.mockRestore())
    expect(e).toBeInstanceOf(DynamoRequestError)
    expect(e.canRetry).toBe(true)
    expect(e.attempts).toBe(5)
    expect(f.calls.length).toBe(5)
    expect(reasons).toEqual(['throttled', 'server_error', 'network', 'throttled'])
    expect(delays).toEqual([99, 199, 399, 799])
  })

  test('a request refused for good is not retried: DynamoRefusedError, not canRetry, with the SDK error name', async () => {
    const f = fakeDb(() => Object.assign(err('ValidationException', 400), { $fault: 'client', message: 'Item size has exceeded the maximum allowed size' }))
    const io = new DynamoIo(f.db, { table: 't', concurrency: 1, retry: policy }, {}, async () => {})
    const e = await io.putAll(items(2)).catch(x => x)
    expect(e).toBeInstanceOf(DynamoRefusedError)
    expect(e.canRetry).toBe(false)
    expect(e.code).toBe('dynamodb_refused')
    expect(e.errorName).toBe('ValidationException')
    expect(f.calls.length).toBe(1)
  })

  test('an item over DynamoDB\'s limits refuses the whole call before any request is sent', async () => {
    const f = fakeDb(() => ({}))
    const io = new DynamoIo(f.db, { table: 't', concurrency: 3, retry: policy }, {}, async () => {})
    const big = { pk: 'U#u1', sk: 'TRIP#big', notes: 'x'.repeat(410 * 1024) }
    const e = await io.putAll([...items(60), big]).catch(x => x)
    expect(e).toBeInstanceOf(DynamoRefusedError)
    expect(e.errorName).toBe('ItemTooLarge')
    expect(e.message).toContain('TRIP#big')
    expect(f.calls.length).toBe(0)
  })

  test('reads refused for good are DynamoRefusedError too; an unknown error still stalls (DynamoRequestError, canRetry)', async () => {
    const refused = new DynamoIo(fakeDb(() => Object.assign(err('ValidationException', 400), { $fault: 'client' })).db, { table: 't', concurrency: 1, retry: policy }, {}, async () => {})
    expect(await refused.getAll([{ pk: 'U#a', sk: 'X' }]).catch(x => x)).toBeInstanceOf(DynamoRefusedError)
    const f = fakeDb(() => err('AccessDeniedException', 400))
    const denied = new DynamoIo(f.db, { table: 't', concurrency: 1, retry: policy }, {}, async () => {})
    const e = await denied.putAll(items(2)).catch(x => x)
    expect(e).toBeInstanceOf(DynamoRequestError)
    expect(e.canRetry).toBe(true)
    expect(f.calls.length).toBe(1)
  })

  test('the guard runs before every attempt: a lost lease stops the writing', async () => {
    let n = 0
    const f = fakeDb(input => ({ UnprocessedItems: { t: input.RequestItems.t } }))
    const io = new DynamoIo(f.db, { table: 't', concurrency: 1, retry: policy }, {}, async () => {})
    await expect(io.putAll(items(2), () => { if (++n > 2) throw new LeaseLostError(0) })).rejects.toBeInstanceOf(LeaseLostError)
    expect(f.calls.length).toBe(2)
  })

  test('a request refused for good stops the other requests of the call, which ends only when none is in flight (the next step of the batch never writes beside it)', async () => {
    let inFlight = 0
    let sent = 0
    const db = {
      send: async (cmd: { input: Sent }) => {
        const first = sent++ === 0
        inFlight++
        await Bun.sleep(first ? 1 : 30)
        inFlight--
        if (first) throw err('ValidationException', 400)
        return { UnprocessedItems: { t: cmd.input.RequestItems.t!.slice(1) } }
      }
    } as unknown as DynamoDBDocumentClient
    const io = new DynamoIo(db, { table: 't', concurrency: 2, retry: policy }, {}, async () => {})
    const e = await io.putAll(items(75)).catch(x => x)
    expect(inFlight).toBe(0)
    expect(e).toBeInstanceOf(DynamoRefusedError)
    expect(e.errorName).toBe('ValidationException')
    // The second request was in flight when the first failed; nothing was sent after it.
    expect(sent).toBe(2)
  })

  test('two writes of one key in one call are refused before anything is sent', async () => {
    const f = fakeDb(() => ({}))
    const io = new DynamoIo(f.db, { table: 't', concurrency: 1, retry: policy })
    await expect(io.putAll([{ pk: 'a', sk: 'b' }, { pk: 'a', sk: 'b' }])).rejects.toThrow('duplicate key')
    expect(f.calls.length).toBe(0)
  })
})

test('retryReason classifies what may succeed later', () => {
  expect(retryReason(err('ThrottlingException', 400))).toBe('throttled')
  expect(retryReason(err('InternalServerError', 500))).toBe('server_error')
  expect(retryReason(err('UnknownError', 503))).toBe('server_error')
  expect(retryReason(err('TimeoutError'))).toBe('network')
  expect(retryReason(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('network')
  expect(retryReason(err('ValidationException', 400))).toBeUndefined()
  expect(retryReason(err('ConditionalCheckFailedException', 400))).toBeUndefined()
})

test('refusalOf: refused for good by the SDK error name, only when the client is at fault', () => {
  const sdk = (name: string, fault?: string) => Object.assign(err(name, 400), fault ? { $fault: fault } : {})
  expect(refusalOf(sdk('ValidationException', 'client'))).toBe('ValidationException')
  expect(refusalOf(sdk('ItemCollectionSizeLimitExceededException', 'client'))).toBe('ItemCollectionSizeLimitExceededException')
  expect(refusalOf(sdk('SerializationException'))).toBe('SerializationException')
  expect(refusalOf(sdk('ValidationException', 'server'))).toBeUndefined()
  // Configuration errors refuse every record: they stall, never dead-letter.
  expect(refusalOf(sdk('ResourceNotFoundException', 'client'))).toBeUndefined()
  expect(refusalOf(sdk('AccessDeniedException', 'client'))).toBeUndefined()
  expect(refusalOf(sdk('ProvisionedThroughputExceededException', 'client'))).toBeUndefined()
  // Not by message text: a throttle whose message mentions validation is still a throttle.
  expect(refusalOf(Object.assign(sdk('ThrottlingException', 'client'), { message: 'ValidationException' }))).toBeUndefined()
  expect(refusalOf(undefined)).toBeUndefined()
})

describe('DynamoIo.putAll with writes of unknown outcome', () => {
  test('a timed-out request that lands after its retry is found and its items put again', async () => {
    // A tiny table: the first attempt times out for the caller but "lands" later with an older image.
    const table = new Map<string, Record<string, unknown>>()
    const key = (i: Record<string, unknown>) => `${String(i.pk)}|${String(i.sk)}`
    let call = 0
    const db = {
      send: async (cmd: { input: { RequestItems: Record<string, { Keys?: Array<{ pk: string, sk: string }> } | Array<{ PutRequest: { Item: Record<string, unknown> } }>> } }) => {
        const req = cmd.input.RequestItems.t!
        if (Array.isArray(req)) {
          if (call++ === 0) {
            // The abandoned request: applied after the retry below, with the image it carried.
            const late = req.map(w => ({ ...w.PutRequest.Item, lastOffset: 1 }))
            setTimeout(() => { for (const i of late) table.set(key(i), i) }, 5)
            throw Object.assign(new Error('timed out'), { name: 'TimeoutError' })
          }
          for (const w of req) table.set(key(w.PutRequest.Item), w.PutRequest.Item)
          return {}
        }
        return { Responses: { t: req.Keys!.map(k => table.get(key(k))).filter(Boolean) } }
      }
    } as unknown as DynamoDBDocumentClient
    const repaired: number[] = []
    const io = new DynamoIo(db, { table: 't', concurrency: 1, retry: policy, settleMs: 20 }, { onRepaired: n => repaired.push(n) }, ms => Bun.sleep(ms))
    const images = [{ pk: 'U#a', sk: 'RES#1', lastOffset: 9 }, { pk: 'U#a', sk: 'RES#2', lastOffset: 9 }]
    await io.putAll(images)
    expect(repaired).toEqual([2])
    expect([...table.values()].map(i => i.lastOffset)).toEqual([9, 9])
  })

  test('writes an earlier attempt left unsettled are checked by the next one, against the image it meant last', async () => {
    const table = new Map<string, Record<string, unknown>>([['U#a|RES#2', { pk: 'U#a', sk: 'RES#2', v: 1 }]])
    let landed = false
    const key = (i: Record<string, unknown>) => `${String(i.pk)}|${String(i.sk)}`
    const db = {
      send: async (cmd: { input: { RequestItems: Record<string, { Keys?: Array<{ pk: string, sk: string }> } | Array<{ PutRequest: { Item: Record<string, unknown> } }>> } }) => {
        const req = cmd.input.RequestItems.t!
        if (Array.isArray(req)) {
          for (const w of req) table.set(key(w.PutRequest.Item), w.PutRequest.Item)
          // The abandoned attempt's request lands once, after this attempt's write of the same key.
          if (!landed) setTimeout(() => table.set('U#a|RES#1', { pk: 'U#a', sk: 'RES#1', v: 1 }), 2)
          landed = true
          return {}
        }
        return { Responses: { t: req.Keys!.map(k => table.get(key(k))).filter(Boolean) } }
      }
    } as unknown as DynamoDBDocumentClient
    const repaired: number[] = []
    const io = new DynamoIo(db, { table: 't', concurrency: 1, retry: policy, settleMs: 20 }, { onRepaired: n => repaired.push(n) }, ms => Bun.sleep(ms))
    // RES#1 is written again by this attempt; RES#2 is not (its image is already stored).
    const unsettled = new Map<string, Record<string, unknown>>([
      ['U#a\u0000RES#1', { pk: 'U#a', sk: 'RES#1', v: 1 }],
      ['U#a\u0000RES#2', { pk: 'U#a', sk: 'RES#2', v: 1 }]
    ])
    await io.putAll([{ pk: 'U#a', sk: 'RES#1', v: 2 }], () => {}, unsettled)
    expect(repaired).toEqual([1])
    expect(table.get('U#a|RES#1')).toEqual({ pk: 'U#a', sk: 'RES#1', v: 2 })
    expect(table.get('U#a|RES#2')).toEqual({ pk: 'U#a', sk: 'RES#2', v: 1 })
    expect(unsettled.size).toBe(0)
    await Bun.sleep(10)
    expect(table.get('U#a|RES#1')!.v).toBe(2)
  })

  test('an unsettled write whose image DynamoDB refuses for good is not put back: it never lands, and it does not make the call refused', async () => {
    const table = new Map<string, Record<string, unknown>>()
    const key = (i: Record<string, unknown>) => `${String(i.pk)}|${String(i.sk)}`
    const writes: string[][] = []
    const db = {
      send: async (cmd: { input: { RequestItems: Record<string, { Keys?: Array<{ pk: string, sk: string }> } | Array<{ PutRequest: { Item: Record<string, unknown> } }>> } }) => {
        const req = cmd.input.RequestItems.t!
        if (Array.isArray(req)) {
          writes.push(req.map(w => key(w.PutRequest.Item)))
          if (req.some(w => w.PutRequest.Item.pk === 'U#bad')) throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException', $fault: 'client' })
          for (const w of req) table.set(key(w.PutRequest.Item), w.PutRequest.Item)
          return {}
        }
        return { Responses: { t: req.Keys!.map(k => table.get(key(k))).filter(Boolean) } }
      }
    } as unknown as DynamoDBDocumentClient
    const io = new DynamoIo(db, { table: 't', concurrency: 1, retry: policy, settleMs: 1 }, {}, ms => Bun.sleep(ms))
    // Left by an earlier, refused step of the batch: one image DynamoDB refuses, one it takes.
    const unsettled = new Map<string, Record<string, unknown>>([
      ['U#bad\u0000TRIP#1', { pk: 'U#bad', sk: 'TRIP#1', v: 1 }],
      ['U#ok\u0000RES#1', { pk: 'U#ok', sk: 'RES#1', v: 1 }]
    ])
    await io.putAll([{ pk: 'U#other', sk: 'RES#2', v: 1 }], () => {}, unsettled)
    expect(table.get('U#ok|RES#1')).toEqual({ pk: 'U#ok', sk: 'RES#1', v: 1 })
    expect(table.has('U#bad|TRIP#1')).toBe(false)
    expect(unsettled.size).toBe(0)
    expect(writes).toEqual([['U#other|RES#2'], ['U#bad|TRIP#1', 'U#ok|RES#1'], ['U#bad|TRIP#1'], ['U#ok|RES#1']])
  })

  test('no timeout, no read-back', async () => {
    const f = fakeDb(() => ({}))
    const io = new DynamoIo(f.db, { table: 't', concurrency: 1, retry: policy, settleMs: 20 }, {}, ms => Bun.sleep(ms))
    expect(await io.putAll(items(30))).toBe(2)
    expect(f.calls.length).toBe(2)
  })
})

describe('DynamoIo.queryLive / countLive (the live local index)', () => {
  test('consistent Queries of the live index by prefix, every page read; COUNT summed across pages with the status filter', async () => {
    const pages = [
      { Items: [{ pk: 'U#a', sk: 'RES#1' }], Count: 1, LastEvaluatedKey: { pk: 'U#a', sk: 'RES#1', lsi1sk: 'R#T#1' } },
      { Items: [{ pk: 'U#a', sk: 'RES#2' }], Count: 1 }
    ]
    const f = fakeDb((_input, call) => pages[call % 2])
    const io = new DynamoIo(f.db, { table: 't', concurrency: 2, retry: policy }, {}, async () => {})
    expect(await io.queryLive('U#a', 'R#T#')).toEqual([{ pk: 'U#a', sk: 'RES#1' }, { pk: 'U#a', sk: 'RES#2' }])
    const [first, second] = f.calls as unknown as Array<Record<string, any>>
    expect(first).toMatchObject({
      TableName: 't',
      IndexName: 'live',
      ConsistentRead: true,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'lsi1sk' },
      ExpressionAttributeValues: { ':pk': 'U#a', ':prefix': 'R#T#' }
    })
    expect(first!.Select).toBeUndefined()
    expect(second!.ExclusiveStartKey).toEqual(pages[0]!.LastEvaluatedKey)

    expect(await io.countLive('U#a', 'R#', 'active')).toBe(2)
    const counted = f.calls[2] as unknown as Record<string, any>
    expect(counted).toMatchObject({ Select: 'COUNT', FilterExpression: '#status = :status', ExpressionAttributeValues: { ':status': 'active', ':prefix': 'R#' } })
    expect(await io.countLive('U#a', 'T#')).toBe(2)
    expect((f.calls[4] as unknown as Record<string, any>).FilterExpression).toBeUndefined()
    // An empty prefix: the user's whole index, on the partition key alone.
    await io.queryLive('U#a', '')
    const whole = f.calls[6] as unknown as Record<string, any>
    expect(whole).toMatchObject({ KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'pk' }, ExpressionAttributeValues: { ':pk': 'U#a' } })
    expect(whole.ExpressionAttributeNames['#sk']).toBeUndefined()
  })

  test('a throttled Query is retried', async () => {
    const f = fakeDb((_input, call) => call === 0 ? err('ThrottlingException', 400) : { Count: 3 })
    const io = new DynamoIo(f.db, { table: 't', concurrency: 1, retry: policy }, {}, async () => {})
    expect(await io.countLive('U#a', 'T#')).toBe(3)
    expect(f.calls).toHaveLength(2)
  })
})
