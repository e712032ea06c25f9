/**
 * Test helpers (imported by *.test.ts only): command builders and an
 * in-memory table that loads and writes the way the updater does.
 */
import type { Command, CommandOf, CommandType } from '../schemas/command.ts'
import type { StatusEvent } from '../schemas/status-event.ts'
import { fold, type FoldCommand, type FoldResult } from './fold.ts'
import { createIdGenerator } from './ids.ts'
import type { FoldItem, ReservationItem } from './items.ts'
import { tripReservationsLsiPrefix } from './keys.ts'
import { emptyLiveIndex, indexAllLive, nextLoads, planLoads, type LiveIndex } from './loads.ts'

export const USER = 'alice'
export const T0 = Date.UTC(2030, 0, 10, 12)

/** Deterministic ids: fixed clock and zero randomness, still strictly increasing. */
export function idSource() {
  return createIdGenerator({ now: () => T0, random: (b) => b.fill(0) })
}

export function commandFactory(userId = USER) {
  const nextId = idSource()
  let offset = 100
  return {
    nextId,
    cmd<K extends CommandType>(type: K, payload: CommandOf<K>['payload'], opts: { at?: number; userId?: string } = {}): FoldCommand {
      const command = {
        v: 1,
        id: nextId(),
        type,
        userId: opts.userId ?? userId,
        actorId: opts.userId ?? userId,
        acceptedAt: opts.at ?? T0,
        payload,
      } as Command
      return { offset: offset++, command }
    },
  }
}

export const flight = {
  type: 'flight' as const,
  title: 'AF 123 Paris to Montreal',
  startsAt: '2030-02-01T08:00:00Z',
  endsAt: '2030-02-01T16:00:00Z',
  places: [{ name: 'Paris CDG', code: 'CDG' }, { name: 'Montreal YUL', code: 'YUL' }],
}

/** One user's partition of the table, with the updater's load rounds (loads.ts readLoads, done synchronously). */
export class FakeTable {
  readonly items = new Map<string, FoldItem>()

  /** The `live` local index: items with `lsi1sk` under `prefix`, in sort key order. */
  live(prefix: string): FoldItem[] {
    return [...this.items.values()]
      .filter((i) => (i as { lsi1sk?: string }).lsi1sk?.startsWith(prefix))
      .sort((a, b) => ((a as { lsi1sk: string }).lsi1sk < (b as { lsi1sk: string }).lsi1sk ? -1 : 1))
  }

  load(commands: readonly FoldCommand[]): { items: Map<string, FoldItem>; index: LiveIndex } {
    const plan = planLoads(commands)
    const items = new Map<string, FoldItem>()
    const index = emptyLiveIndex()
    if (plan.activeReservations || plan.liveTrips) indexAllLive(index, this.live('') as unknown as Array<Record<string, unknown>>)
    for (let next = nextLoads(plan, items, index); next.keys.length || next.tripReservations.length; next = nextLoads(plan, items, index)) {
      for (const sk of next.keys) {
        index.requested.add(sk)
        const item = this.items.get(sk)
        if (item) items.set(sk, structuredClone(item))
      }
      for (const tripId of next.tripReservations)
        index.tripReservations.set(
          tripId,
          this.live(tripReservationsLsiPrefix(tripId)).map((i) => {
            const r = i as ReservationItem
            return { sk: r.sk, startsAt: r.startsAt, endsAt: r.endsAt, status: r.status, lastOffset: r.lastOffset }
          }),
        )
    }
    return { items, index }
  }

  write(writes: ReadonlyMap<string, FoldItem>, only?: (sk: string) => boolean) {
    for (const [sk, item] of writes) if (!only || only(sk)) this.items.set(sk, structuredClone(item))
  }

  run(commands: readonly FoldCommand[], userId = USER): FoldResult {
    const { items, index } = this.load(commands)
    const result = fold(userId, items, commands, index)
    this.write(result.writes)
    return result
  }

  snapshot() {
    return new Map([...this.items].map(([k, v]) => [k, structuredClone(v)]))
  }
}

/** A valid status event for codec and notifier tests. */
export const sampleEvent: StatusEvent = {
  v: 1,
  reservationId: '01JRES00000000000000000000',
  userId: 'alice',
  tripId: 'unassigned-alice',
  seq: 42,
  change: 'rescheduled',
  status: 'active',
  previous: { status: 'active', startsAt: '2030-02-01T08:00:00.000Z', endsAt: '2030-02-01T16:00:00.000Z' },
  current: {
    status: 'active',
    startsAt: '2030-02-01T09:00:00.000Z',
    endsAt: '2030-02-01T17:00:00.000Z',
    title: 'AF 123',
    type: 'flight',
    places: [{ name: 'CDG' }],
  },
  acceptedAt: 1_900_000_000_000,
  commandId: '01JCMD00000000000000000000',
  emittedFor: 41,
}

/** The `live` local index over an in-memory table (the updater's queryLive / countLive), for fakes of BatchIo. */
export function fakeLiveQueries(table: ReadonlyMap<string, Record<string, unknown>>) {
  const under = (pk: string, prefix: string) => [...table.values()].filter((i) => i.pk === pk && typeof i.lsi1sk === 'string' && i.lsi1sk.startsWith(prefix))
  return {
    queryLive: async (pk: string, prefix: string) => under(pk, prefix).map((i) => structuredClone(i)),
    countLive: async (pk: string, prefix: string, status?: string) => under(pk, prefix).filter((i) => status === undefined || i.status === status).length,
  }
}
