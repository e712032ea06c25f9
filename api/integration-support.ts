/** Integration-test helpers for the API (imported by *.integration.test.ts only). */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { fold } from '../shared/domain/fold.ts'
import { newId } from '../shared/domain/ids.ts'
import { emptyLiveIndex, readLoads, type UserLoad } from '../shared/domain/loads.ts'
import { documentLoadIo } from '../shared/dynamo/live-reads.ts'
import { decodeCommand, type Command, type CommandOf, type CommandType, type PayloadOf } from '../shared/schemas/command.ts'
import { TopicTail } from '../test/support/kafka.ts'

/**
 * Seeds the table the way the updater would: builds commands, loads the user's items they touch,
 * folds them with the shared fold and writes the resulting images. Offsets grow per process.
 */
export class Seeder {
  private offset = 1
  constructor (private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  cmd<K extends CommandType> (type: K, userId: string, payload: PayloadOf<K>, actorId = userId): CommandOf<K> {
    return { v: 1, id: newId(), type, userId, actorId, acceptedAt: Date.now(), payload } as unknown as CommandOf<K>
  }

  async apply (userId: string, ...commands: Command[]): Promise<void> {
    const folded = commands.map(command => ({ offset: this.offset++, command }))
    const user: UserLoad = { userId, commands: folded, items: new Map(), index: emptyLiveIndex() }
    await readLoads(documentLoadIo(this.db, this.table), [user])
    const result = fold(userId, user.items, folded, user.index)
    if (result.rejected.length) throw new Error(`seed rejected: ${JSON.stringify(result.rejected)}`)
    for (const item of result.writes.values()) await this.db.send(new PutCommand({ TableName: this.table, Item: item }))
  }

  async put (item: Record<string, unknown>): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: item }))
  }
}

/** Everything produced to the command topic since start (test/support/kafka.ts TopicTail, decoded). */
export class CommandLog {
  private readonly tail = new TopicTail(r => {
    const d = decodeCommand(r.value)
    return d.ok ? { key: r.key, command: d.command, raw: r.value } : undefined
  })

  get commands (): ReadonlyArray<{ key: string, command: Command, raw: string }> { return this.tail.records }

  async start (topic: string): Promise<void> { await this.tail.start(topic) }

  of (userId: string) { return this.commands.filter(c => c.command.userId === userId) }

  async waitFor (what: string, pred: (c: Command) => boolean, timeoutMs = 10_000): Promise<{ key: string, command: Command }> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const hit = this.commands.find(c => pred(c.command))
      if (hit) return hit
      await Bun.sleep(25)
    }
    throw new Error(`no command ${what} within ${timeoutMs} ms`)
  }

  async stop (): Promise<void> { await this.tail.stop() }
}
