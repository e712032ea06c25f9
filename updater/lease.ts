import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { LeaseLostError, LeaseRefusedError } from './errors.ts'

/**
 * Partition leases (fencing), in the same table:
 *   pk `LEASE#<topic>`, sk `P#<partition>`, { owner, epoch, leaseUntil (epoch ms), group, renewedAt }
 * - acquire: a conditional Put that succeeds only if no lease exists, or the lease ran out, or the
 *   epoch is the one just read and this instance holds it; the epoch goes up by one on every
 *   acquisition, so a takeover is visible to the previous holder.
 * - renew: conditional on `owner = me AND epoch = mine`; a failed condition means someone else
 *   took the partition: LeaseLostError carrying the record that won, and this updater stops.
 * - release (SIGTERM): same condition, sets leaseUntil to 0 so a successor need not wait.
 *
 * BatchWriteItem takes no condition, so writes are fenced by time: a holder writes only while
 * its lease is valid by its own clock, counted from when the last successful renew was SENT,
 * for two thirds of the TTL; a taker needs the stored leaseUntil (a full TTL after the renew)
 * to have passed. The last third covers clock drift and one request timeout in flight.
 */
export interface LeaseRecord { owner: string, epoch: number, leaseUntil: number }

export interface LeaseOptions {
  table: string
  topic: string
  partition: number
  group: string
  owner: string
  ttlMs: number
}

export const leaseKey = (topic: string, partition: number) => ({ pk: `LEASE#${topic}`, sk: `P#${partition}` })

export class PartitionLease {
  private epoch = 0
  private validUntil = 0
  private held = false

  constructor (
    private readonly db: DynamoDBDocumentClient,
    private readonly o: LeaseOptions,
    private readonly now: () => number = Date.now,
    private readonly mono: () => number = () => performance.now()
  ) {}

  get partition (): number { return this.o.partition }
  get currentEpoch (): number { return this.epoch }
  /** True while this instance may write the partition. */
  isValid (): boolean { return this.held && this.mono() < this.validUntil }
  isHeld (): boolean { return this.held }

  /** Throws LeaseLostError when this instance may not write now. */
  check (): void {
    if (!this.isValid()) throw new LeaseLostError(this.o.partition)
  }

  async read (): Promise<LeaseRecord | undefined> {
    const res = await this.db.send(new GetCommand({ TableName: this.o.table, Key: leaseKey(this.o.topic, this.o.partition), ConsistentRead: true }))
    const i = res.Item
    return i ? { owner: String(i.owner), epoch: Number(i.epoch), leaseUntil: Number(i.leaseUntil) } : undefined
  }

  /** Takes the partition, or throws LeaseRefusedError naming the live holder. */
  async acquire (): Promise<number> {
    const current = await this.read()
    const now = this.now()
    if (current && current.owner !== this.o.owner && current.leaseUntil > now) throw new LeaseRefusedError(this.o.partition, current)
    const epoch = (current?.epoch ?? 0) + 1
    const sentAt = this.mono()
    try {
      await this.db.send(new PutCommand({
        TableName: this.o.table,
        Item: { ...leaseKey(this.o.topic, this.o.partition), entity: 'lease', owner: this.o.owner, epoch, leaseUntil: now + this.o.ttlMs, group: this.o.group, renewedAt: now },
        ConditionExpression: current ? '#epoch = :seen AND (#until < :now OR #owner = :me)' : 'attribute_not_exists(pk)',
        ExpressionAttributeNames: current ? { '#epoch': 'epoch', '#until': 'leaseUntil', '#owner': 'owner' } : undefined,
        ExpressionAttributeValues: current ? { ':seen': current.epoch, ':now': now, ':me': this.o.owner } : undefined
      }))
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        const winner = await this.read()
        throw new LeaseRefusedError(this.o.partition, winner ?? { owner: 'unknown', epoch: -1, leaseUntil: now + this.o.ttlMs })
      }
      throw err
    }
    this.epoch = epoch
    this.held = true
    this.validUntil = sentAt + (this.o.ttlMs * 2) / 3
    return epoch
  }

  /** Extends the lease; LeaseLostError if another instance took it. Other errors leave it to run out. */
  async renew (): Promise<void> {
    if (!this.held) throw new LeaseLostError(this.o.partition)
    const now = this.now()
    const sentAt = this.mono()
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.o.table,
        Key: leaseKey(this.o.topic, this.o.partition),
        UpdateExpression: 'SET #until = :until, renewedAt = :now',
        ConditionExpression: '#owner = :me AND #epoch = :epoch',
        ExpressionAttributeNames: { '#until': 'leaseUntil', '#owner': 'owner', '#epoch': 'epoch' },
        ExpressionAttributeValues: { ':until': now + this.o.ttlMs, ':now': now, ':me': this.o.owner, ':epoch': this.epoch }
      }))
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        this.held = false
        const winner = await this.read().catch(() => undefined)
        throw new LeaseLostError(this.o.partition, winner)
      }
      throw err
    }
    this.validUntil = sentAt + (this.o.ttlMs * 2) / 3
  }

  /** Gives the partition up at once (shutdown). Best effort: a failure lets it run out. */
  async release (): Promise<void> {
    if (!this.held) return
    this.held = false
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.o.table,
        Key: leaseKey(this.o.topic, this.o.partition),
        UpdateExpression: 'SET #until = :zero',
        ConditionExpression: '#owner = :me AND #epoch = :epoch',
        ExpressionAttributeNames: { '#until': 'leaseUntil', '#owner': 'owner', '#epoch': 'epoch' },
        ExpressionAttributeValues: { ':zero': 0, ':me': this.o.owner, ':epoch': this.epoch }
      }))
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err
    }
  }
}
