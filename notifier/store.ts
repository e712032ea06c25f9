import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { NotificationItem, NotifiedItem, SettingsItem } from '../shared/domain/items.ts'
import { notifiedSk, settingsSk, userPk } from '../shared/domain/keys.ts'
import type { DedupeStore } from './dedupe.ts'

/** The notifier's DynamoDB I/O: the user's settings, in-app notifications, the dedupe record. */
export class NotifierStore implements DedupeStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async settings(userId: string): Promise<SettingsItem | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: userPk(userId), sk: settingsSk() } }))
    const item = r.Item as SettingsItem | undefined
    return item && !item.deleted ? item : undefined
  }

  /** Unconditional: a retry writes the same item again (same id, same key). */
  async putNotification(item: NotificationItem): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: item }))
  }

  async tryClaim(c: Parameters<DedupeStore['tryClaim']>[0]): Promise<boolean> {
    return conditional(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: userPk(c.userId), sk: notifiedSk(c.reservationId) },
          UpdateExpression: 'SET entity = :e, reservationId = :r, claimSeq = :seq, claimId = :id, claimOwner = :o, claimUntil = :u',
          ConditionExpression: '(attribute_not_exists(lastSeq) OR lastSeq < :seq) AND (attribute_not_exists(claimSeq) OR claimSeq <> :seq)',
          ExpressionAttributeValues: { ':e': 'notified', ':r': c.reservationId, ':seq': c.seq, ':id': c.id, ':o': c.owner, ':u': c.until },
        }),
      ),
    )
  }

  async takeOver(c: Parameters<DedupeStore['takeOver']>[0]): Promise<boolean> {
    return conditional(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: userPk(c.userId), sk: notifiedSk(c.reservationId) },
          UpdateExpression: 'SET claimOwner = :o, claimUntil = :u',
          ConditionExpression: '(attribute_not_exists(lastSeq) OR lastSeq < :seq) AND claimSeq = :seq AND claimOwner = :po AND claimUntil = :pu',
          ExpressionAttributeValues: { ':seq': c.seq, ':o': c.owner, ':u': c.until, ':po': c.previous.owner, ':pu': c.previous.until },
        }),
      ),
    )
  }

  async read(userId: string, reservationId: string): Promise<NotifiedItem | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: userPk(userId), sk: notifiedSk(reservationId) }, ConsistentRead: true }))
    return r.Item as NotifiedItem | undefined
  }

  async complete(c: Parameters<DedupeStore['complete']>[0]): Promise<boolean> {
    return conditional(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: userPk(c.userId), sk: notifiedSk(c.reservationId) },
          UpdateExpression: 'SET entity = :e, reservationId = :r, lastSeq = :seq, notifiedAt = :at',
          ConditionExpression: 'attribute_not_exists(lastSeq) OR lastSeq < :seq',
          ExpressionAttributeValues: { ':e': 'notified', ':r': c.reservationId, ':seq': c.seq, ':at': c.at },
        }),
      ),
    )
  }

  async release(c: Parameters<DedupeStore['release']>[0]): Promise<void> {
    await conditional(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: userPk(c.userId), sk: notifiedSk(c.reservationId) },
          UpdateExpression: 'SET claimUntil = :zero',
          ConditionExpression: 'claimSeq = :seq AND claimOwner = :o',
          ExpressionAttributeValues: { ':seq': c.seq, ':o': c.owner, ':zero': 0 },
        }),
      ),
    )
  }
}

/** True if the write happened, false if its condition failed; other errors propagate. */
async function conditional(p: Promise<unknown>): Promise<boolean> {
  try {
    await p
    return true
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException') return false
    throw error
  }
}
