import { expect, test } from 'bun:test'
import type { FoldCommand } from '../shared/domain/fold.ts'
import type { Command } from '../shared/schemas/command.ts'
import { DynamoRefusedError, DynamoRequestError } from './errors.ts'
import { applyIsolated, type UserCommands } from './isolation.ts'

const refusal = () => new DynamoRefusedError('write', 'ValidationException', new Error('refused'))
const cmd = (offset: number): FoldCommand => ({ offset, command: {} as Command })

/** Seeded users with interleaved offsets, some commands marked refused-whenever-written. */
function scenario (seed: number) {
  let x = seed
  const rnd = () => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x / 0x7fffffff }
  const users: UserCommands[] = Array.from({ length: 1 + Math.floor(rnd() * 12) }, (_, i) => ({ userId: `u${i}`, commands: [] }))
  const bad = new Set<number>()
  const total = users.length + Math.floor(rnd() * 60)
  for (let offset = 0; offset < total; offset++) {
    users[offset < users.length ? offset : Math.floor(rnd() * users.length)]!.commands.push(cmd(offset))
    if (rnd() < 0.06) bad.add(offset)
  }
  return { users, bad }
}

test('against a model: every user is applied up to its first refused command, that one is refused and the rest of the user blocked, in order, each command applied once', async () => {
  for (let seed = 1; seed <= 300; seed++) {
    const { users, bad } = scenario(seed)
    const applied: number[] = []
    const io = {
      step: async (group: UserCommands[]) => {
        if (group.some(u => u.commands.some(c => bad.has(c.offset)))) throw refusal()
        for (const u of group) for (const c of u.commands) applied.push(c.offset)
        return group
      }
    }
    const out = await applyIsolated(io, users)

    // The model, written from the rule: per user, the prefix before the first bad command.
    const expectApplied: number[] = []
    const expectRefusals: Array<{ userId: string, offset: number, blocked: number[] }> = []
    for (const u of users) {
      const first = u.commands.findIndex(c => bad.has(c.offset))
      const upTo = first < 0 ? u.commands.length : first
      expectApplied.push(...u.commands.slice(0, upTo).map(c => c.offset))
      if (first >= 0) expectRefusals.push({ userId: u.userId, offset: u.commands[first]!.offset, blocked: u.commands.slice(first + 1).map(c => c.offset) })
    }
    expect([...applied].sort((a, b) => a - b)).toEqual(expectApplied.sort((a, b) => a - b))
    expect(out.refusals.map(r => ({ userId: r.userId, offset: r.offset, blocked: r.blocked })).sort((a, b) => a.offset - b.offset)).toEqual(expectRefusals.sort((a, b) => a.offset - b.offset))
    // Per-user order: each user's applied commands come in offset order.
    for (const u of users) {
      const mine = applied.filter(o => u.commands.some(c => c.offset === o))
      expect(mine).toEqual([...mine].sort((a, b) => a - b))
    }
    // Bisect, not one step per command: bounded by 2·log2 per refused user and level.
    const refusedUsers = expectRefusals.length
    const bound = 1 + refusedUsers * (2 * Math.ceil(Math.log2(users.length + 1)) + 2 * Math.ceil(Math.log2(70)) + 2)
    expect(out.refusedSteps + out.steps.length).toBeLessThanOrEqual(bound)
    if (refusedUsers === 0) expect(out.steps.length).toBe(1)
  }
})

test('a transient error on the way is thrown as is (the batch stalls and is retried whole), never turned into a refusal', async () => {
  let n = 0
  const io = {
    step: async (group: UserCommands[]) => {
      if (++n === 1) throw refusal()
      if (n === 3) throw new DynamoRequestError('write', 8, 'throttled')
      return group
    }
  }
  const users = [{ userId: 'a', commands: [cmd(0)] }, { userId: 'b', commands: [cmd(1)] }, { userId: 'c', commands: [cmd(2)] }]
  expect(await applyIsolated(io, users).catch(e => e)).toBeInstanceOf(DynamoRequestError)
})

test('a refusal that does not come back when the user is tried again ends with that user applied whole', async () => {
  let n = 0
  const io = { step: async (group: UserCommands[]) => { if (++n === 1) throw refusal(); return group } }
  const out = await applyIsolated(io, [{ userId: 'a', commands: [cmd(0), cmd(1), cmd(2)] }])
  expect(out.refusals).toEqual([])
  expect(out.steps.flatMap(g => g.flatMap(u => u.commands.map(c => c.offset)))).toEqual([0, 1, 2])
})

test('users found refused by an earlier attempt of the batch are narrowed down alone at once: a retried attempt does not bisect the batch again', async () => {
  const users: UserCommands[] = Array.from({ length: 64 }, (_, i) => ({ userId: `u${i}`, commands: [cmd(2 * i), cmd(2 * i + 1)] }))
  const bad = new Set([2 * 37 + 1])
  const refused = new Set<string>()
  const groups: string[][] = []
  const step = async (group: UserCommands[]) => {
    groups.push(group.map(u => u.userId))
    if (group.some(u => u.commands.some(c => bad.has(c.offset)))) throw refusal()
    return group
  }
  const first = await applyIsolated({ step, refused }, users)
  expect(first.refusals.map(r => r.offset)).toEqual([75])
  expect(first.refusedSteps).toBeGreaterThanOrEqual(7)
  expect([...refused]).toEqual(['u37'])

  groups.length = 0
  const again = await applyIsolated({ step, refused }, users)
  expect(again.refusals.map(r => r.offset)).toEqual([75])
  // Everyone but u37 in one step, then u37 alone, then its commands: no halving of the batch.
  expect(groups[0]).toEqual(users.map(u => u.userId).filter(u => u !== 'u37'))
  expect(groups.slice(1)).toEqual([['u37'], ['u37'], ['u37']])
})
