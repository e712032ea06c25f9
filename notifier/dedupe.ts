import type { NotifiedItem } from '../shared/domain/items.ts'
import { isNewForUser } from '../shared/domain/notify.ts'
import { sleep, StoppingError } from './retry.ts'

/**
 * Once per change, per user. The `NOTIFIED#<reservationId>` record in the user's partition holds
 * `lastSeq` (highest seq notified) and, while an event is delivered, a claim on it. Per event:
 *
 *   1. claim    conditional write: not notified yet (lastSeq < seq) and no claim on this seq yet;
 *               stores a fresh time-ordered notification id with the claim.
 *   2. in-app   Put NOTIF#<that id>: a retry rewrites the same item, never a second one.
 *   3. live     publish to the notifications topic (readers drop an id they already passed on).
 *   4. webhook  POST, header X-RoadWarrior-Delivery = that id (retries and replays send the same id).
 *   5. done     conditional write lastSeq = seq (only ever raised).
 *
 * A crash anywhere before 5 leaves the claim: the replay (same or other notifier) finds the claim
 * of this seq, takes it over once it lapsed (or at once if it is its own) and redoes 2-5 with the
 * same id, so the user still has one in-app notification; only a step that had completed is
 * repeated with the same id (at-least-once with an idempotency key). After 5, any redelivery is
 * recognised by seq and produces nothing. Two notifiers holding the same partition during a
 * rebalance cannot both deliver: the second finds a live claim of another process on this seq and
 * waits until it is done (then: duplicate) or lapsed (then: takes over). The lease outlasts the
 * longest delivery (config.claimLeaseMs).
 */

/** The narrow I/O seam the dedupe logic sits on (DynamoDB in notifier/store.ts, a Map in tests). */
export interface DedupeStore {
  /** Step 1. False when the condition failed. */
  tryClaim(c: { userId: string; reservationId: string; seq: number; id: string; owner: string; until: number }): Promise<boolean>
  /** Takes over a lapsed (or own) claim on `seq`, only if it is still exactly `previous`. */
  takeOver(c: { userId: string; reservationId: string; seq: number; owner: string; until: number; previous: { owner: string; until: number } }): Promise<boolean>
  read(userId: string, reservationId: string): Promise<NotifiedItem | undefined>
  /** Step 5. False if lastSeq was already at or above seq. */
  complete(c: { userId: string; reservationId: string; seq: number; at: number }): Promise<boolean>
  /** Lets a claim lapse now (shutdown mid-delivery), if it is still ours. */
  release(c: { userId: string; reservationId: string; seq: number; owner: string }): Promise<void>
}

export type ConflictDecision =
  | { kind: 'duplicate' }
  | { kind: 'take-over'; id: string; previous: { owner: string; until: number } }
  | { kind: 'busy'; until: number }
  | { kind: 'retry' }

/** What a failed claim means, from the record read right after. Pure. */
export function decideConflict(record: NotifiedItem | undefined, seq: number, owner: string, now: number): ConflictDecision {
  if (!isNewForUser(record, { seq })) return { kind: 'duplicate' }
  if (record?.claimSeq !== seq || !record.claimId || record.claimOwner === undefined || record.claimUntil === undefined) return { kind: 'retry' }
  const previous = { owner: record.claimOwner, until: record.claimUntil }
  if (record.claimOwner === owner || record.claimUntil <= now) return { kind: 'take-over', id: record.claimId, previous }
  return { kind: 'busy', until: record.claimUntil }
}

export type ClaimResult = { kind: 'claimed'; id: string; resumed: boolean } | { kind: 'duplicate' }

export class Dedupe {
  constructor(
    private readonly store: DedupeStore,
    private readonly o: { owner: string; leaseMs: number; newId: () => string; now?: () => number; pollMs?: number },
  ) {}

  get owner(): string {
    return this.o.owner
  }

  /** Claims the event or reports it already notified; waits while another live notifier holds it. */
  async claim(e: { userId: string; reservationId: string; seq: number }, signal?: AbortSignal): Promise<ClaimResult> {
    const now = this.o.now ?? Date.now
    for (let round = 0; ; round++) {
      if (signal?.aborted) throw new StoppingError('claiming')
      const id = this.o.newId()
      if (await this.store.tryClaim({ ...e, id, owner: this.o.owner, until: now() + this.o.leaseMs })) return { kind: 'claimed', id, resumed: false }
      const d = decideConflict(await this.store.read(e.userId, e.reservationId), e.seq, this.o.owner, now())
      if (d.kind === 'duplicate') return d
      if (d.kind === 'take-over') {
        if (await this.store.takeOver({ ...e, owner: this.o.owner, until: now() + this.o.leaseMs, previous: d.previous })) return { kind: 'claimed', id: d.id, resumed: true }
        continue
      }
      if (d.kind === 'busy') await sleep(Math.max(1, Math.min(this.o.pollMs ?? 250, d.until - now() + 1)), signal, 'waiting for another notifier')
      else if (round > 20) throw new Error(`dedupe record of ${e.reservationId} keeps changing`)
    }
  }

  complete(e: { userId: string; reservationId: string; seq: number }): Promise<boolean> {
    return this.store.complete({ ...e, at: (this.o.now ?? Date.now)() })
  }

  release(e: { userId: string; reservationId: string; seq: number }): Promise<void> {
    return this.store.release({ ...e, owner: this.o.owner })
  }
}

/** In-memory DedupeStore with DynamoDB's conditional semantics (unit tests). */
export class MemoryDedupeStore implements DedupeStore {
  readonly items = new Map<string, NotifiedItem>()
  private key = (u: string, r: string) => `${u}|${r}`
  private get(u: string, r: string): NotifiedItem {
    return this.items.get(this.key(u, r)) ?? { pk: `U#${u}`, sk: `NOTIFIED#${r}`, entity: 'notified', reservationId: r }
  }
  async tryClaim(c: Parameters<DedupeStore['tryClaim']>[0]) {
    const it = this.get(c.userId, c.reservationId)
    if (!isNewForUser(it, c) || it.claimSeq === c.seq) return false
    this.items.set(this.key(c.userId, c.reservationId), { ...it, claimSeq: c.seq, claimId: c.id, claimOwner: c.owner, claimUntil: c.until })
    return true
  }
  async takeOver(c: Parameters<DedupeStore['takeOver']>[0]) {
    const it = this.get(c.userId, c.reservationId)
    if (!isNewForUser(it, c) || it.claimSeq !== c.seq || it.claimOwner !== c.previous.owner || it.claimUntil !== c.previous.until) return false
    this.items.set(this.key(c.userId, c.reservationId), { ...it, claimOwner: c.owner, claimUntil: c.until })
    return true
  }
  async read(u: string, r: string) {
    return this.items.get(this.key(u, r))
  }
  async complete(c: Parameters<DedupeStore['complete']>[0]) {
    const it = this.get(c.userId, c.reservationId)
    if (!isNewForUser(it, c)) return false
    this.items.set(this.key(c.userId, c.reservationId), { ...it, lastSeq: c.seq, notifiedAt: c.at })
    return true
  }
  async release(c: Parameters<DedupeStore['release']>[0]) {
    const it = this.get(c.userId, c.reservationId)
    if (it.claimSeq === c.seq && it.claimOwner === c.owner) this.items.set(this.key(c.userId, c.reservationId), { ...it, claimUntil: 0 })
  }
}
