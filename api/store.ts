import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb'
import { type NotificationItem, type ReservationItem, type SettingsItem, type ShareItem, type TripItem } from '../shared/domain/items.ts'
import { GSI, granteeGsiPk, granteeGsiSk, LIVE_RESERVATIONS_PREFIX, LIVE_TRIPS_PREFIX, liveTripLsiSk, LSI, reservationGsiPk, SK, shareSk, TRIP_GSI_SK, tripGsiPk, tripReservationsLsiPrefix, tripSk, userPk } from '../shared/domain/keys.ts'
import { UNASSIGNED_PREFIX } from '../shared/schemas/ids.ts'

/** DynamoDB could not answer (network, throttling, server fault): the API answers 503 + Retry-After. */
export class StoreUnavailableError extends Error {
  readonly code = 'DYNAMODB_UNAVAILABLE'
  readonly canRetry = true
  constructor (cause: unknown) {
    super(`DynamoDB unavailable: ${(cause as Error)?.name ?? ''} ${(cause as Error)?.message ?? cause}`, { cause })
    this.name = 'StoreUnavailableError'
  }
}

/** A conditional write lost: someone else's record is there. */
export class ConditionFailed extends Error {
  constructor () { super('condition failed'); this.name = 'ConditionFailed' }
}

const retriableNames = new Set(['ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded',
  'InternalServerError', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException'])

export function classify (err: unknown): Error {
  if (err instanceof ConditionalCheckFailedException) return new ConditionFailed()
  const e = err as { name?: string, $fault?: string, $metadata?: { httpStatusCode?: number } }
  // No HTTP status at all: the request never got an answer (refused, reset, timed out).
  if (e?.$fault === 'server' || retriableNames.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === undefined) return new StoreUnavailableError(err)
  return err as Error
}

/** A page of a Query: items and the key to continue from (absent on the last page). */
export interface Page<T> { items: T[], next?: Record<string, unknown> }

/** Trip items of a user's `TRIP#` range are live unless removed (tombstones answer 404). */
const live = (item: { deleted?: boolean, status?: string } | undefined) => item !== undefined && !item.deleted && item.status !== 'removed'

/** Idempotency record `U#<user>` / `IDEM#<key>`: see api/idempotency.ts. */
export interface IdempotencyRecord {
  pk: string
  sk: string
  entity: 'idempotency'
  operation: string
  requestHash: string
  resourceId: string
  /** The command as produced (JSON): a retry re-sends exactly these bytes. */
  command: string
  state: 'pending' | 'done'
  /** Epoch ms until which the request holding the record is producing; after it, a retry may take over. */
  leaseUntil: number
  createdAt: number
  /** Epoch seconds (TTL attribute); readers ignore the record after it. */
  expiresAt: number
}
export const idempotencySk = (key: string) => `IDEM#${key}`

/**
 * The API's narrow seam over the single table: every read it makes and the idempotency writes.
 * Reads by key are strongly consistent (the user's own items), and so are the counts of the `live`
 * local index; global index reads are eventually consistent.
 */
export class Store {
  constructor (private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  private async run<T> (f: () => Promise<T>): Promise<T> {
    try { return await f() } catch (err) { throw classify(err) }
  }

  async get<T> (userId: string, sk: string): Promise<T | undefined> {
    const out = await this.run(() => this.db.send(new GetCommand({ TableName: this.table, Key: { pk: userPk(userId), sk }, ConsistentRead: true })))
    return out.Item as T | undefined
  }

  /** The user's own live trip, by key. */
  async ownTrip (userId: string, tripId: string): Promise<TripItem | undefined> {
    const t = await this.get<TripItem>(userId, tripSk(tripId))
    return live(t) ? t : undefined
  }

  async settings (userId: string): Promise<SettingsItem | undefined> {
    const s = await this.get<SettingsItem>(userId, SK.settings)
    return s && !s.deleted ? s : undefined
  }

  /** A live reservation by id, whoever owns it (byReservation holds only live reservations). */
  async reservationById (reservationId: string): Promise<ReservationItem | undefined> {
    const out = await this.query({ IndexName: GSI.byReservation.name, KeyConditionExpression: 'gsi2pk = :pk', ExpressionAttributeValues: { ':pk': reservationGsiPk(reservationId) }, Limit: 1 })
    const r = out.items[0] as ReservationItem | undefined
    return r?.entity === 'reservation' && live(r) ? r : undefined
  }

  /** The trip item alone from byTrip (any owner): it carries the shares map that authorizes readers. */
  async tripById (tripId: string): Promise<TripItem | undefined> {
    const out = await this.query({ IndexName: GSI.byTrip.name, KeyConditionExpression: 'gsi3pk = :pk AND gsi3sk = :sk', ExpressionAttributeValues: { ':pk': tripGsiPk(tripId), ':sk': TRIP_GSI_SK }, Limit: 1 })
    const t = out.items[0] as TripItem | undefined
    return t?.entity === 'trip' && live(t) ? t : undefined
  }

  /**
   * A trip and its live reservations ordered by start time: one byTrip Query (more pages only for a
   * trip beyond 1 MB). Share items sort after `~` and are left out by the key condition.
   */
  async tripWithReservations (tripId: string, maxPages = 10): Promise<{ trip?: TripItem, reservations: ReservationItem[] }> {
    let trip: TripItem | undefined
    const reservations: ReservationItem[] = []
    let next: Record<string, unknown> | undefined
    for (let page = 0; page < maxPages; page++) {
      const out = await this.query({ IndexName: GSI.byTrip.name, KeyConditionExpression: 'gsi3pk = :pk AND gsi3sk < :shares', ExpressionAttributeValues: { ':pk': tripGsiPk(tripId), ':shares': '~' }, ExclusiveStartKey: next })
      for (const item of out.items) {
        if (item.entity === 'trip') trip = item as TripItem
        else if (item.entity === 'reservation' && live(item as ReservationItem)) reservations.push(item as ReservationItem)
      }
      if (!out.next || (page === 0 && !trip)) break
      next = out.next
    }
    return { trip: live(trip) ? trip : undefined, reservations }
  }

  /** The user's trips (TRIP# range), tombstones left out; `afterSk` continues a previous page. */
  async ownedTrips (userId: string, limit: number, afterSk?: string): Promise<{ items: TripItem[], lastSk?: string }> {
    const out = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': userPk(userId), ':p': SK.trip },
      Limit: limit,
      ExclusiveStartKey: afterSk ? { pk: userPk(userId), sk: afterSk } : undefined
    })
    return { items: (out.items as TripItem[]).filter(live), lastSk: out.next?.sk as string | undefined }
  }

  /** Trips shared with the user (byGrantee); the cursor is rebuilt from ids so it cannot leave the user's range. */
  async sharedTrips (userId: string, limit: number, after?: { ownerId: string, tripId: string }): Promise<{ items: ShareItem[], last?: { ownerId: string, tripId: string } }> {
    const out = await this.query({
      IndexName: GSI.byGrantee.name,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': granteeGsiPk(userId) },
      Limit: limit,
      ExclusiveStartKey: after
        ? { gsi1pk: granteeGsiPk(userId), gsi1sk: granteeGsiSk(after.tripId), pk: userPk(after.ownerId), sk: shareSk(after.tripId, userId) }
        : undefined
    })
    const items = (out.items as ShareItem[]).filter(s => s.entity === 'share' && !s.deleted)
    const last = out.items.at(-1) as ShareItem | undefined
    return { items, last: out.next && last ? { ownerId: last.ownerId, tripId: last.tripId } : undefined }
  }

  /**
   * The user's notifications, newest first after `beforeId` (exclusive), or oldest first after
   * `afterId` (exclusive) for a stream resuming from Last-Event-ID. Expired ones are skipped.
   */
  async notifications (userId: string, o: { limit: number, beforeId?: string, afterId?: string }): Promise<{ items: NotificationItem[], more: boolean }> {
    const nowS = Math.floor(Date.now() / 1000)
    const ascending = o.afterId !== undefined
    const from = o.afterId ?? o.beforeId
    const out = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': userPk(userId), ':p': SK.notification },
      ScanIndexForward: ascending,
      Limit: o.limit,
      ExclusiveStartKey: from ? { pk: userPk(userId), sk: `${SK.notification}${from}` } : undefined
    })
    const items = (out.items as NotificationItem[]).filter(n => n.entity === 'notification' && (n.expiresAt === undefined || n.expiresAt > nowS))
    return { items, more: out.next !== undefined }
  }

  // --- counts for the limits (shared/domain/limits.ts), from the `live` local index ---

  /** Live reservations of one of the user's trips, counted up to `atLeast`. */
  async countTripReservations (userId: string, tripId: string, atLeast: number): Promise<number> {
    return await this.countLive(userId, 'begins_with(#sk, :p)', { ':p': tripReservationsLsiPrefix(tripId) }, atLeast)
  }

  /** The user's active reservations (status active, not removed), counted up to `atLeast`. */
  async countActiveReservations (userId: string, atLeast: number): Promise<number> {
    return await this.countLive(userId, 'begins_with(#sk, :p)', { ':p': LIVE_RESERVATIONS_PREFIX }, atLeast, { expression: '#status = :active', names: { '#status': 'status' }, values: { ':active': 'active' } })
  }

  /**
   * The user's live trips, the Unassigned trip not counted, up to `atLeast`. A filter cannot name an
   * index key, so the key range leaves it out: trip ids are ULIDs (digits and upper case), which all
   * sort below `T#unassigned-`, and the Unassigned trip (`T#unassigned-<userId>`) sorts above it.
   */
  async countTrips (userId: string, atLeast: number): Promise<number> {
    return await this.countLive(userId, '#sk BETWEEN :from AND :to', { ':from': LIVE_TRIPS_PREFIX, ':to': liveTripLsiSk(UNASSIGNED_PREFIX) }, atLeast)
  }

  /**
   * Select COUNT over the user's rows of the `live` index in a sort-key range, page after page
   * (a count page stops at 1 MB read), stopping once `atLeast` is reached: a limit check only needs
   * to know whether it is. Strongly consistent (a local index allows it): what the updater applied
   * is counted at once. Without a filter, `Limit` bounds what is read to `atLeast` rows.
   */
  private async countLive (userId: string, range: string, values: Record<string, string>, atLeast: number,
    filter?: { expression: string, names: Record<string, string>, values: Record<string, string> }): Promise<number> {
    let count = 0
    let next: Record<string, unknown> | undefined
    do {
      const out = await this.run(() => this.db.send(new QueryCommand({
        TableName: this.table,
        IndexName: LSI.live.name,
        KeyConditionExpression: `#pk = :pk AND ${range}`,
        FilterExpression: filter?.expression,
        ExpressionAttributeNames: { '#pk': LSI.live.pk, '#sk': LSI.live.sk, ...filter?.names },
        ExpressionAttributeValues: { ':pk': userPk(userId), ...values, ...filter?.values },
        Select: 'COUNT',
        ConsistentRead: true,
        Limit: filter ? undefined : Math.max(1, atLeast - count),
        ExclusiveStartKey: next
      })))
      count += out.Count ?? 0
      next = out.LastEvaluatedKey
    } while (next && count < atLeast)
    return count
  }

  // --- idempotency records (api/idempotency.ts decides, these only read and write) ---

  async getIdempotency (userId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const r = await this.get<IdempotencyRecord>(userId, idempotencySk(key))
    return r && r.expiresAt * 1000 > Date.now() ? r : undefined
  }

  /** Writes the record unless a live one exists (an expired one is overwritten). Throws ConditionFailed. */
  async putIdempotency (record: IdempotencyRecord): Promise<void> {
    await this.run(() => this.db.send(new PutCommand({
      TableName: this.table,
      Item: record,
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :nowS',
      ExpressionAttributeValues: { ':nowS': Math.floor(Date.now() / 1000) }
    })))
  }

  /** Moves the lease from `expected` to `leaseUntil` if nobody else did (take-over or release). Throws ConditionFailed. */
  async moveIdempotencyLease (userId: string, key: string, expected: number, leaseUntil: number): Promise<void> {
    await this.run(() => this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: { pk: userPk(userId), sk: idempotencySk(key) },
      UpdateExpression: 'SET leaseUntil = :l',
      ConditionExpression: '#state = :pending AND leaseUntil = :e',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':l': leaseUntil, ':e': expected, ':pending': 'pending' }
    })))
  }

  async markIdempotencyDone (userId: string, key: string): Promise<void> {
    await this.run(() => this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: { pk: userPk(userId), sk: idempotencySk(key) },
      UpdateExpression: 'SET #state = :done',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':done': 'done' }
    })))
  }

  private async query (input: Omit<QueryCommandInput, 'TableName'>): Promise<Page<Record<string, unknown>>> {
    const out = await this.run(() => this.db.send(new QueryCommand({ TableName: this.table, ...input })))
    return { items: (out.Items ?? []) as Array<Record<string, unknown>>, next: out.LastEvaluatedKey }
  }
}
