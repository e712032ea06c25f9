import { describe, expect, test, afterAll } from 'bun:test'
import { CreateTableCommand } from '@aws-sdk/client-dynamodb'
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb'
import { LSI } from '../domain/keys.ts'
import { stackEnv, uniq } from '../../test/support/stack.ts'
import { testLogger } from '../../test/support/logger.ts'
import { createDynamoClient } from './client.ts'
import { ensureTable, Index, tableDefinition } from './table.ts'

const env = stackEnv()
const db = createDynamoClient({ DYNAMODB_ENDPOINT: env.DYNAMODB_ENDPOINT, AWS_REGION: 'local' })
afterAll(() => db.destroy())

describe('DynamoDB round trip on dynalite', () => {
  test('BatchWriteItem of 25 items, then a Query on the partition key and on each index', async () => {
    const table = uniq('roundtrip')
    await ensureTable(db, table, testLogger)
    await ensureTable(db, table, testLogger) // idempotent
    const user = uniq('u')
    const trip = uniq('t')
    const items = Array.from({ length: 25 }, (_, i) => {
      const id = `${trip}-r${String(i).padStart(2, '0')}`
      const startsAt = new Date(Date.UTC(2027, 0, 1 + (24 - i))).toISOString()
      return {
        pk: `U#${user}`, sk: `RES#${id}`, id, startsAt,
        gsi1pk: `G#grantee-${i % 2}`, gsi1sk: `TRIP#${id}`,
        gsi2pk: `R#${id}`,
        gsi3pk: `T#${trip}`, gsi3sk: `${startsAt}#${id}`,
        gsi4pk: `END#2027-01-${String(1 + (i % 3)).padStart(2, '0')}`, gsi4sk: `${startsAt}#${user}#${id}`
      }
    })
    const res = await db.send(new BatchWriteCommand({ RequestItems: { [table]: items.map(Item => ({ PutRequest: { Item } })) } }))
    expect(Object.keys(res.UnprocessedItems ?? {}).length).toBe(0)

    const byPk = await db.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk and begins_with(sk, :res)', ExpressionAttributeValues: { ':pk': `U#${user}`, ':res': 'RES#' } }))
    expect(byPk.Items?.length).toBe(25)

    const grantee = await db.send(new QueryCommand({ TableName: table, IndexName: Index.byGrantee, KeyConditionExpression: 'gsi1pk = :g', ExpressionAttributeValues: { ':g': 'G#grantee-0' } }))
    expect(grantee.Items?.length).toBe(13)

    const owner = await db.send(new QueryCommand({ TableName: table, IndexName: Index.byReservation, KeyConditionExpression: 'gsi2pk = :r', ExpressionAttributeValues: { ':r': `R#${items[7]!.id}` } }))
    expect(owner.Items?.map(i => i.pk)).toEqual([`U#${user}`])

    const byTrip = await db.send(new QueryCommand({ TableName: table, IndexName: Index.byTrip, KeyConditionExpression: 'gsi3pk = :t', ExpressionAttributeValues: { ':t': `T#${trip}` } }))
    const starts = byTrip.Items!.map(i => i.startsAt as string)
    expect(starts.length).toBe(25)
    expect(starts).toEqual([...starts].sort()) // ordered by start time

    const ended = await db.send(new QueryCommand({ TableName: table, IndexName: Index.byEndDay, KeyConditionExpression: 'gsi4pk = :d', ExpressionAttributeValues: { ':d': 'END#2027-01-02' } }))
    expect(ended.Items?.length).toBe(8)

    // Pagination: a small page size still returns everything across pages.
    let pages = 0
    let seen = 0
    let start: Record<string, unknown> | undefined
    do {
      const page = await db.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `U#${user}` }, Limit: 10, ExclusiveStartKey: start }))
      pages++
      seen += page.Items?.length ?? 0
      start = page.LastEvaluatedKey
    } while (start)
    expect(seen).toBe(25)
    expect(pages).toBeGreaterThanOrEqual(3)
  })

  test('the live local index: consistent Query by prefix with the INCLUDE projection, and Select COUNT with a filter', async () => {
    const table = uniq('live')
    await ensureTable(db, table, testLogger)
    const pk = `U#${uniq('u')}`
    const items = [
      { pk, sk: 'RES#a', lsi1sk: 'R#T1#a', startsAt: '2030-01-01T00:00:00.000Z', endsAt: '2030-01-02T00:00:00.000Z', status: 'active', lastOffset: 5, notes: 'not projected' },
      { pk, sk: 'RES#b', lsi1sk: 'R#T1#b', startsAt: '2030-01-03T00:00:00.000Z', endsAt: '2030-01-04T00:00:00.000Z', status: 'cancelled', lastOffset: 6 },
      { pk, sk: 'RES#c', lsi1sk: 'R#T10#c', startsAt: '2030-01-03T00:00:00.000Z', endsAt: '2030-01-04T00:00:00.000Z', status: 'active', lastOffset: 7 },
      { pk, sk: 'RES#d', startsAt: '2030-01-03T00:00:00.000Z', endsAt: '2030-01-04T00:00:00.000Z', status: 'removed', lastOffset: 8 },
      { pk, sk: 'TRIP#T1', lsi1sk: 'T#T1', status: 'active', lastOffset: 1 },
      { pk, sk: 'TRIP#T10', lsi1sk: 'T#T10', status: 'active', lastOffset: 2 }
    ]
    await db.send(new BatchWriteCommand({ RequestItems: { [table]: items.map(Item => ({ PutRequest: { Item } })) } }))
    const query = (prefix: string, extra: Record<string, unknown> = {}) => db.send(new QueryCommand({
      TableName: table, IndexName: LSI.live.name, ConsistentRead: true,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :p)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': LSI.live.sk, ...(extra.FilterExpression ? { '#status': 'status' } : {}) },
      ExpressionAttributeValues: { ':pk': pk, ':p': prefix, ...(extra.FilterExpression ? { ':s': 'active' } : {}) },
      ...extra
    }))
    const t1 = await query('R#T1#')
    expect(t1.Items!.map(i => i.sk)).toEqual(['RES#a', 'RES#b'])
    expect(t1.Items![0]).toEqual({ pk, sk: 'RES#a', lsi1sk: 'R#T1#a', startsAt: '2030-01-01T00:00:00.000Z', endsAt: '2030-01-02T00:00:00.000Z', status: 'active', lastOffset: 5 })
    expect((await query('R#', { Select: 'COUNT', FilterExpression: '#status = :s' })).Count).toBe(2)
    expect((await query('T#', { Select: 'COUNT' })).Count).toBe(2)
  })

  test('ensureTable refuses a table made without the live local index, saying what to do', async () => {
    const table = uniq('old')
    const { LocalSecondaryIndexes: _, ...old } = tableDefinition(table)
    await db.send(new CreateTableCommand({ ...old, AttributeDefinitions: old.AttributeDefinitions!.filter(a => a.AttributeName !== LSI.live.sk) }))
    await expect(ensureTable(db, table, testLogger)).rejects.toThrow(/no local index 'live'.*delete \.data/)
  })
})
