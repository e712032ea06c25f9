import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { classify } from '../store.ts'

/**
 * The record of one agency update, `pk = AGENCY#<agencyId>#UPDATE#<updateId>`, `sk = AGENCY_UPDATE`
 * (one partition per update, so a busy agency never makes a hot key; neither id can hold `#`).
 * Written with a conditional put BEFORE the command is produced, holding the command's exact bytes
 * and a lease, as the Idempotency-Key records do (api/agencies/dedupe.ts decides; this only reads
 * and writes). `expiresAt` (epoch s) is the TTL attribute; readers ignore the record after it.
 */
export interface AgencyUpdateRecord {
  pk: string
  sk: string
  entity: 'agency-update'
  agencyId: string
  updateId: string
  /** sha256 of the canonical body: the same updateId with another body is refused. */
  requestHash: string
  reservationId: string
  ownerId: string
  commandType: string
  /** The command as produced (JSON): a take-over re-sends exactly these bytes. */
  command: string
  state: 'pending' | 'done'
  /** Epoch ms until which the request holding the record is producing. */
  leaseUntil: number
  createdAt: number
  expiresAt: number
}

export const AGENCY_UPDATE_SK = 'AGENCY_UPDATE'
export const agencyUpdatePk = (agencyId: string, updateId: string) => `AGENCY#${agencyId}#UPDATE#${updateId}`

/** A conditional write lost; thrown by put and moveLease. */
export class RecordTaken extends Error {
  constructor () { super('agency update record taken'); this.name = 'RecordTaken' }
}

export class AgencyUpdateRecords {
  constructor (private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  private async run<T> (f: () => Promise<T>): Promise<T> {
    try {
      return await f()
    } catch (err) {
      const e = classify(err)
      throw e.name === 'ConditionFailed' ? new RecordTaken() : e
    }
  }

  private key (agencyId: string, updateId: string) {
    return { pk: agencyUpdatePk(agencyId, updateId), sk: AGENCY_UPDATE_SK }
  }

  async get (agencyId: string, updateId: string): Promise<AgencyUpdateRecord | undefined> {
    const out = await this.run(() => this.db.send(new GetCommand({ TableName: this.table, Key: this.key(agencyId, updateId), ConsistentRead: true })))
    const r = out.Item as AgencyUpdateRecord | undefined
    return r && r.expiresAt * 1000 > Date.now() ? r : undefined
  }

  /** Writes the record unless a live one exists (an expired one is overwritten). Throws RecordTaken. */
  async put (record: AgencyUpdateRecord): Promise<void> {
    await this.run(() => this.db.send(new PutCommand({
      TableName: this.table,
      Item: record,
      ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :nowS',
      ExpressionAttributeValues: { ':nowS': Math.floor(Date.now() / 1000) }
    })))
  }

  /** Moves a pending record's lease from `expected` to `leaseUntil` (take-over or release). Throws RecordTaken. */
  async moveLease (agencyId: string, updateId: string, expected: number, leaseUntil: number): Promise<void> {
    await this.run(() => this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: this.key(agencyId, updateId),
      UpdateExpression: 'SET leaseUntil = :l',
      ConditionExpression: '#state = :pending AND leaseUntil = :e',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':l': leaseUntil, ':e': expected, ':pending': 'pending' }
    })))
  }

  async markDone (agencyId: string, updateId: string): Promise<void> {
    await this.run(() => this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: this.key(agencyId, updateId),
      UpdateExpression: 'SET #state = :done',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':done': 'done' }
    })))
  }
}
