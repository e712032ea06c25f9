import { describe, expect, test } from 'bun:test'
import { decodeCommand, type Command } from '../../shared/schemas/command.ts'
import { Commands } from '../commands.ts'
import { ApiError } from '../errors.ts'
import { hashOf } from '../idempotency.ts'
import { createLogger } from '../../shared/log/logger.ts'
import { AgencyDedupe, type RecordIo } from './dedupe.ts'
import { RecordTaken, type AgencyUpdateRecord } from './update-records.ts'

/** The conditional writes of update-records.ts, over a Map (same conditions, no DynamoDB). */
class MemoryRecords implements RecordIo {
  readonly rows = new Map<string, AgencyUpdateRecord>()
  puts = 0
  private k = (a: string, u: string) => `${a}\u0000${u}`
  async get (a: string, u: string) {
    const r = this.rows.get(this.k(a, u))
    return r && r.expiresAt * 1000 > Date.now() ? structuredClone(r) : undefined
  }

  async put (record: AgencyUpdateRecord) {
    this.puts++
    const old = this.rows.get(this.k(record.agencyId, record.updateId))
    if (old && old.expiresAt >= Math.floor(Date.now() / 1000)) throw new RecordTaken()
    this.rows.set(this.k(record.agencyId, record.updateId), structuredClone(record))
  }

  async moveLease (a: string, u: string, expected: number, leaseUntil: number) {
    const r = this.rows.get(this.k(a, u))
    if (!r || r.state !== 'pending' || r.leaseUntil !== expected) throw new RecordTaken()
    r.leaseUntil = leaseUntil
  }

  async markDone (a: string, u: string) {
    const r = this.rows.get(this.k(a, u))
    if (r) r.state = 'done'
  }
}

/** Records what would be produced; `fail` makes sends reject as the producer does. */
class FakeSink {
  readonly sent: Array<{ key: string, command: Command }> = []
  fail: Error | undefined
  async send (topic: string, key: string, value: string | Buffer) {
    if (this.fail) throw this.fail
    const d = decodeCommand(String(value))
    if (!d.ok) throw new Error(`invalid command produced: ${d.reason}`)
    this.sent.push({ key, command: d.command })
    return { topic, partition: 0, offset: BigInt(this.sent.length) }
  }
}
const quietLog = createLogger('agency-dedupe-test', 'error', {}, () => {})

const RES = '01HZZZZZZZZZZZZZZZZZZZZZZZ'
const body = { reservationId: RES, updateId: 'upd-1', occurredAt: '2026-12-04T10:00:00Z', change: 'cancelled' as const }

function setup () {
  const io = new MemoryRecords()
  const sink = new FakeSink()
  const commands = new Commands(sink, 'reservation-commands')
  const dedupe = new AgencyDedupe(io, commands, { ttlS: 3600, leaseMs: 300 }, quietLog)
  const command = (b: typeof body = body): Command => commands.build('reservation.agency-update', 'alice', 'agency:acme', { agencyId: 'acme', ...b })
  const accept = (b: typeof body = body) => dedupe.accept({ agencyId: 'acme', updateId: b.updateId, body: b, reservationId: RES, command: command(b) })
  return { io, sink, accept, command }
}

describe('AgencyDedupe: one command per (agencyId, updateId)', () => {
  test('first: produced once, keyed by the owner, record done; a repeat is answered the same and produces nothing', async () => {
    const { io, sink, accept } = setup()
    expect(await accept()).toEqual({ reservationId: RES, replayed: false })
    expect(await accept()).toEqual({ reservationId: RES, replayed: true })
    expect(await accept()).toEqual({ reservationId: RES, replayed: true })
    expect(sink.sent).toHaveLength(1)
    expect(sink.sent[0]).toMatchObject({ key: 'alice', command: { type: 'reservation.agency-update', payload: { updateId: 'upd-1' } } })
    expect([...io.rows.values()]).toMatchObject([{ state: 'done', agencyId: 'acme', updateId: 'upd-1', pk: 'AGENCY#acme#UPDATE#upd-1' }])
  })

  test('the same updateId with another body: 422 update_id_reused, nothing produced', async () => {
    const { sink, accept } = setup()
    await accept()
    const err = await accept({ ...body, change: 'cancelled', occurredAt: '2026-12-04T11:00:00Z' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 422, details: [{ field: 'body.updateId', code: 'update_id_reused' }] })
    expect(sink.sent).toHaveLength(1)
  })

  test('other updateIds or another agency are separate', async () => {
    const { io, sink, accept } = setup()
    await accept()
    await accept({ ...body, updateId: 'upd-2' })
    expect(sink.sent).toHaveLength(2)
    expect(io.rows.size).toBe(2)
  })

  test('a crash between the record and the produce loses nothing: the retry takes over and sends the stored bytes', async () => {
    const { io, sink, accept, command } = setup()
    const first = command()
    // What a process that died right after its put leaves behind: pending, lease soon over.
    await io.put({
      pk: 'AGENCY#acme#UPDATE#upd-1', sk: 'AGENCY_UPDATE', entity: 'agency-update', agencyId: 'acme', updateId: 'upd-1',
      requestHash: hashOf(body), reservationId: RES, ownerId: 'alice', commandType: first.type,
      command: JSON.stringify(first), state: 'pending', leaseUntil: Date.now() + 100, createdAt: Date.now(), expiresAt: Math.floor(Date.now() / 1000) + 3600
    })
    const t0 = Date.now()
    expect(await accept()).toEqual({ reservationId: RES, replayed: true })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90) // waited for the lease, did not steal it
    expect(sink.sent).toHaveLength(1)
    expect(sink.sent[0]!.command.id).toBe(first.id) // the dead request's command, not a new one
    expect(await accept()).toEqual({ reservationId: RES, replayed: true })
    expect(sink.sent).toHaveLength(1)
  })

  test('a failed produce releases the lease: the error surfaces (503), the next try sends the same command', async () => {
    const { sink, accept } = setup()
    sink.fail = new Error('kafka down')
    expect(await accept().catch((e: Error) => e.message)).toBe('kafka down')
    sink.fail = undefined
    const t0 = Date.now()
    expect(await accept()).toEqual({ reservationId: RES, replayed: true })
    expect(Date.now() - t0).toBeLessThan(250) // released at once, no wait for the lease
    expect(sink.sent).toHaveLength(1)
  })

  test('two identical requests at once: one command', async () => {
    const { sink, accept } = setup()
    const got = await Promise.all([accept(), accept(), accept()])
    expect(got.map(g => g.reservationId)).toEqual([RES, RES, RES])
    expect(got.filter(g => !g.replayed)).toHaveLength(1)
    expect(sink.sent).toHaveLength(1)
    expect(decodeCommand(JSON.stringify(sink.sent[0]!.command)).ok).toBe(true)
  })
})
