import { expect, test } from 'bun:test'
import { createIdGenerator } from '../shared/domain/ids.ts'
import { Dedupe, decideConflict, MemoryDedupeStore } from './dedupe.ts'

const ev = { userId: 'alice', reservationId: '01JRES00000000000000000000', seq: 7 }
const rec = (over: object) => ({ pk: 'U#alice', sk: 'NOTIFIED#r', entity: 'notified' as const, reservationId: ev.reservationId, ...over })

test('decideConflict', () => {
  expect(decideConflict(rec({ lastSeq: 7 }), 7, 'me', 0)).toEqual({ kind: 'duplicate' })
  expect(decideConflict(rec({ lastSeq: 9 }), 7, 'me', 0)).toEqual({ kind: 'duplicate' })
  const claim = { claimSeq: 7, claimId: 'ID', claimOwner: 'other', claimUntil: 1000 }
  expect(decideConflict(rec(claim), 7, 'me', 500)).toEqual({ kind: 'busy', until: 1000 })
  expect(decideConflict(rec(claim), 7, 'me', 1000)).toEqual({ kind: 'take-over', id: 'ID', previous: { owner: 'other', until: 1000 } })
  expect(decideConflict(rec({ ...claim, claimOwner: 'me' }), 7, 'me', 0).kind).toBe('take-over')
  expect(decideConflict(rec({ ...claim, claimSeq: 6 }), 7, 'me', 0)).toEqual({ kind: 'retry' })
})

function setup(owner: string, store = new MemoryDedupeStore(), clock = { t: 1000 }) {
  return { store, clock, d: new Dedupe(store, { owner, leaseMs: 100, newId: createIdGenerator(), now: () => clock.t, pollMs: 5 }) }
}

test('claim, crash, replay: same notification id; after completion: duplicate', async () => {
  const a = setup('a')
  const first = await a.d.claim(ev)
  expect(first).toMatchObject({ kind: 'claimed', resumed: false })
  // the same process retries (crash of the step, not of the process): resumes its own claim
  const again = await a.d.claim(ev)
  expect(again).toEqual({ kind: 'claimed', id: (first as { id: string }).id, resumed: true })
  // a new process after the lease: takes over with the same id
  a.clock.t += 200
  const b = setup('b', a.store, a.clock)
  expect(await b.d.claim(ev)).toEqual({ kind: 'claimed', id: (first as { id: string }).id, resumed: true })
  expect(await b.d.complete(ev)).toBe(true)
  expect(await a.d.claim(ev)).toEqual({ kind: 'duplicate' })
  expect(await b.d.claim({ ...ev, seq: 3 })).toEqual({ kind: 'duplicate' })
  expect(await a.d.complete(ev)).toBe(false)
  expect((await a.d.claim({ ...ev, seq: 8 })).kind).toBe('claimed')
})

test('a second notifier waits for a live claim, then sees it done', async () => {
  const a = setup('a')
  const b = setup('b', a.store, a.clock)
  await a.d.claim(ev)
  const waiting = b.d.claim(ev)
  await Bun.sleep(20)
  await a.d.complete(ev)
  expect(await waiting).toEqual({ kind: 'duplicate' })
})

test('a released claim is taken over at once', async () => {
  const a = setup('a')
  const b = setup('b', a.store, a.clock)
  const first = await a.d.claim(ev)
  await a.d.release(ev)
  expect(await b.d.claim(ev)).toEqual({ kind: 'claimed', id: (first as { id: string }).id, resumed: true })
})

test('claim stops waiting on abort', async () => {
  const a = setup('a')
  const b = setup('b', a.store, a.clock)
  await a.d.claim(ev)
  await expect(b.d.claim(ev, AbortSignal.timeout(20))).rejects.toThrow('stopped')
})
