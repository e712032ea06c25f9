import { expect, test } from 'bun:test'
import { KeyedRunner } from './keyed-runner.ts'

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms))

test('one key runs in order, keys run side by side up to the limit', async () => {
  const log: string[] = []
  let concurrent = 0
  let most = 0
  const r = new KeyedRunner<{ k: string; i: number }>(
    2,
    async (x) => {
      concurrent++
      most = Math.max(most, concurrent)
      await tick(x.k === 'slow' ? 20 : 1)
      log.push(`${x.k}${x.i}`)
      concurrent--
    },
    () => {},
  )
  for (let i = 0; i < 3; i++) r.push('slow', { k: 'slow', i })
  for (let i = 0; i < 3; i++) r.push('a', { k: 'a', i })
  for (let i = 0; i < 3; i++) r.push('b', { k: 'b', i })
  await tick(5)
  await r.idle()
  while (r.size > 0) await r.idle().then(() => tick(5))
  expect(most).toBe(2)
  for (const k of ['slow', 'a', 'b']) expect(log.filter((l) => l.startsWith(k))).toEqual([`${k}0`, `${k}1`, `${k}2`])
  // the slow key did not hold the others back
  expect(log.indexOf('b2')).toBeLessThan(log.indexOf('slow2'))
})

test('a failure abandons the rest of its key only', async () => {
  const done: number[] = []
  const failed: number[] = []
  const r = new KeyedRunner<number>(
    1,
    async (n) => {
      await tick()
      if (n === 1) throw new Error('stop')
    },
    (n) => done.push(n),
    (n) => failed.push(n),
  )
  for (const [k, n] of [['x', 0], ['x', 1], ['x', 2], ['y', 3]] as const) r.push(k, n)
  while (r.size > 0) await tick(2)
  expect(failed).toEqual([1])
  expect(done).toEqual([0, 3])
})

test('clear drops what has not started; the running item finishes', async () => {
  const done: number[] = []
  const r = new KeyedRunner<number>(1, () => tick(5).then(() => {}), (n) => done.push(n))
  for (const [k, n] of [['x', 0], ['x', 1], ['y', 2]] as const) r.push(k, n)
  expect(r.clear().sort()).toEqual([1, 2])
  await r.idle()
  expect(done).toEqual([0])
  expect(r.size).toBe(0)
})

test('keys take turns: a key with a long backlog holds its slot one item at a time', async () => {
  const log: string[] = []
  const r = new KeyedRunner<string>(1, async (x) => { await tick(1); log.push(x) }, () => {})
  for (let i = 0; i < 5; i++) r.push('hostile', `h${i}`)
  r.push('a', 'a0')
  r.push('b', 'b0')
  while (r.size > 0) await tick(2)
  // a and b ran after one item of the backlog each, not after all five
  expect(log.indexOf('a0')).toBeLessThan(3)
  expect(log.indexOf('b0')).toBeLessThan(4)
  expect(log.filter((x) => x.startsWith('h'))).toEqual(['h0', 'h1', 'h2', 'h3', 'h4'])
})
