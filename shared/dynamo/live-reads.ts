import { BatchGetCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb'
import { LSI } from '../domain/keys.ts'
import type { LoadIo } from '../domain/loads.ts'

/**
 * One page of a strongly consistent Query of the `live` local index under `pk`: the rows whose sort
 * key starts with `prefix` (every row for ''), only those with `status` if given, counted only if `count`.
 */
export function liveQuery (table: string, pk: string, prefix: string, o: { status?: string, count?: boolean, start?: Record<string, unknown> }): QueryCommandInput {
  const { status, count, start } = o
  return {
    TableName: table,
    IndexName: LSI.live.name,
    ConsistentRead: true,
    KeyConditionExpression: prefix === '' ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
    ...(status === undefined ? {} : { FilterExpression: '#status = :status' }),
    ExpressionAttributeNames: { '#pk': LSI.live.pk, ...(prefix === '' ? {} : { '#sk': LSI.live.sk }), ...(status === undefined ? {} : { '#status': 'status' }) },
    ExpressionAttributeValues: { ':pk': pk, ...(prefix === '' ? {} : { ':prefix': prefix }), ...(status === undefined ? {} : { ':status': status }) },
    ...(count ? { Select: 'COUNT' as const } : {}),
    ExclusiveStartKey: start
  }
}

/**
 * The fold's reads (domain/loads.ts LoadIo) over a plain DocumentClient, without retries: for
 * seeding and tests that fold commands the way the updater does. The updater itself uses
 * DynamoIo (bounded concurrency, retries with backoff).
 */
export function documentLoadIo (db: DynamoDBDocumentClient, table: string): LoadIo {
  const pages = async (pk: string, prefix: string, status: string | undefined, count: boolean) => {
    const items: Array<Record<string, unknown>> = []
    let n = 0
    let start: Record<string, unknown> | undefined
    do {
      const res = await db.send(new QueryCommand(liveQuery(table, pk, prefix, { status, count, start })))
      items.push(...(res.Items ?? []))
      n += res.Count ?? 0
      start = res.LastEvaluatedKey
    } while (start)
    return { items, n }
  }
  return {
    async getAll (keys) {
      const out: Array<Record<string, unknown>> = []
      for (let i = 0; i < keys.length; i += 100) {
        let pending: Array<{ pk: string, sk: string }> = keys.slice(i, i + 100).map(k => ({ pk: k.pk, sk: k.sk }))
        while (pending.length) {
          const res = await db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }))
          out.push(...(res.Responses?.[table] ?? []))
          pending = (res.UnprocessedKeys?.[table]?.Keys ?? []) as typeof pending
        }
      }
      return out
    },
    queryLive: async (pk, prefix) => (await pages(pk, prefix, undefined, false)).items,
    countLive: async (pk, prefix, status) => (await pages(pk, prefix, status, true)).n
  }
}
