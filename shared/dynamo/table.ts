import { CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, ResourceNotFoundException, UpdateTimeToLiveCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb'
import { type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { LIVE_PROJECTION, LSI } from '../domain/keys.ts'
import { type Logger } from '../log/logger.ts'

/**
 * The single table of DESIGN.md. Attribute and index names are the contract every role shares.
 *   pk / sk                       U#<userId> / PROFILE, SETTINGS, TRIP#…, RES#…, SHARE#…, NOTIF#…
 *   byGrantee     gsi1pk / gsi1sk  trips shared with a user
 *   byReservation gsi2pk          a reservation's owner, from its id (agency updates)
 *   byTrip        gsi3pk / gsi3sk  a trip and its reservations ordered by start time, in one Query
 *   byEndDay      gsi4pk / gsi4sk  trips by end day, so finished trips are found without a scan
 *   live (local)  pk / lsi1sk      a user's live reservations by trip and live trips, read strongly
 *                                  consistent (domain/keys.ts LSI); local indexes exist only if the
 *                                  table is created with them, so ensureTable refuses a table without it
 * `expiresAt` (epoch seconds) is the TTL attribute where the endpoint supports TTL; readers ignore
 * expired records themselves, since dynalite never expires anything.
 */
export const Index = { byGrantee: 'byGrantee', byReservation: 'byReservation', byTrip: 'byTrip', byEndDay: 'byEndDay' } as const
export const ttlAttribute = 'expiresAt'

export function tableDefinition (tableName: string): CreateTableCommandInput {
  const s = (n: string) => ({ AttributeName: n, AttributeType: 'S' as const })
  const gsi = (name: string, pk: string, sk?: string) => ({
    IndexName: name,
    KeySchema: [{ AttributeName: pk, KeyType: 'HASH' as const }, ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' as const }] : [])],
    Projection: { ProjectionType: 'ALL' as const }
  })
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [s('pk'), s('sk'), s('gsi1pk'), s('gsi1sk'), s('gsi2pk'), s('gsi3pk'), s('gsi3sk'), s('gsi4pk'), s('gsi4sk'), s(LSI.live.sk)],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    LocalSecondaryIndexes: [{
      IndexName: LSI.live.name,
      KeySchema: [{ AttributeName: LSI.live.pk, KeyType: 'HASH' }, { AttributeName: LSI.live.sk, KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...LIVE_PROJECTION] }
    }],
    GlobalSecondaryIndexes: [
      gsi(Index.byGrantee, 'gsi1pk', 'gsi1sk'),
      gsi(Index.byReservation, 'gsi2pk'),
      gsi(Index.byTrip, 'gsi3pk', 'gsi3sk'),
      gsi(Index.byEndDay, 'gsi4pk', 'gsi4sk')
    ]
  }
}

/** The local index a table made by an older version lacks (the fold needs it), or undefined. Pure. */
export function missingLocalIndex (names: readonly string[]): string | undefined {
  return names.includes(LSI.live.name) ? undefined : LSI.live.name
}

/**
 * Creates the table if missing and waits until it is ACTIVE; turns TTL on where supported.
 * An existing table without the `live` local index stops here with a message saying what to do.
 */
export async function ensureTable (db: DynamoDBDocumentClient, tableName: string, log: Logger, timeoutMs = 60_000): Promise<void> {
  let status: string | undefined
  try {
    const table = (await db.send(new DescribeTableCommand({ TableName: tableName }))).Table
    status = table?.TableStatus
    const missing = missingLocalIndex(table?.LocalSecondaryIndexes?.map(i => i.IndexName ?? '') ?? [])
    if (missing) throw new Error(`table ${tableName} has no local index '${missing}': local indexes can only be made with the table. Locally, delete .data (or the table) and start again; in production, see README "Production"`)
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err
    await db.send(new CreateTableCommand(tableDefinition(tableName)))
    log.info('dynamodb_table_created', { table: tableName })
  }
  const deadline = Date.now() + timeoutMs
  while (status !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${tableName} not ACTIVE after ${timeoutMs} ms (status ${status})`)
    await Bun.sleep(100)
    status = (await db.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus
  }
  await ensureTtl(db, tableName, log)
}

async function ensureTtl (db: DynamoDBDocumentClient, tableName: string, log: Logger): Promise<void> {
  try {
    const ttl = await db.send(new DescribeTimeToLiveCommand({ TableName: tableName }))
    if (ttl.TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED') return
    await db.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: ttlAttribute } }))
    log.info('dynamodb_ttl_enabled', { table: tableName, attribute: ttlAttribute })
  } catch (err) {
    // dynalite has no TTL: records past expiresAt stay, and readers skip them.
    log.warn('dynamodb_ttl_unsupported', { table: tableName, note: 'TTL is off on this endpoint: expired records are filtered by readers', error: (err as Error).name })
  }
}
