/**
 * Test helpers (imported by *.test.ts only): command builders and an
 * in-memory table that loads and writes the way the updater does.
 */
import type { Command, CommandOf, CommandType } from '../schemas/command.ts'
import type { StatusEvent } from '../schemas/status-event.ts'
import { fold, type FoldCommand, type FoldResult } from './fold.ts'
import { createIdGenerator } from './ids.ts'
import type { FoldItem } from './items.ts'
import { tripGsiPk } from './keys.ts'
import { followUpKeys, planLoads } from './loads.ts'

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

/** One user's partition of the table, with the updater's load rounds. */
export class FakeTable {
  readonly items = new Map<string, FoldItem>()

  load(commands: readonly FoldCommand[]): Map<string, FoldItem> {
    const plan = planLoads(commands.map((c) => c.command))
    const loaded = new Map<string, FoldItem>()
    const get = (sk: string) => {
      const item = this.items.get(sk)
      if (item) loaded.set(sk, structuredClone(item))
    }
    plan.keys.forEach(get)
    followUpKeys(plan, loaded).forEach(get)
    for (const tripId of plan.queryTrips)
      for (const [sk, item] of this.items) if ((item as { gsi3pk?: string }).gsi3pk === tripGsiPk(tripId) && !loaded.has(sk)) get(sk)
    return loaded
  }

  write(writes: ReadonlyMap<string, FoldItem>, only?: (sk: string) => boolean) {
    for (const [sk, item] of writes) if (!only || only(sk)) this.items.set(sk, structuredClone(item))
  }

  run(commands: readonly FoldCommand[], userId = USER): FoldResult {
    const result = fold(userId, this.load(commands), commands)
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
