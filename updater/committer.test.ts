import { expect, test } from 'bun:test'
import { Committer } from './committer.ts'

test('commits of one tick share a request; a later one waits for the first to finish', async () => {
  const calls: Array<Array<[number, number]>> = []
  let release!: () => void
  const c = new Committer(async offsets => {
    calls.push([...offsets])
    if (calls.length === 1) await new Promise<void>(r => { release = r })
  })
  const a = c.commit(0, 10)
  const b = c.commit(1, 5)
  await Bun.sleep(1)
  const d = c.commit(0, 12)
  const e = c.commit(0, 11) // never moves a partition back
  release()
  await Promise.all([a, b, d, e])
  expect(calls).toEqual([[[0, 10], [1, 5]], [[0, 12]]])
})

test('a failed request rejects its callers only', async () => {
  let fail = true
  const c = new Committer(async () => { if (fail) { fail = false; throw new Error('down') } })
  await expect(c.commit(0, 1)).rejects.toThrow('down')
  await c.commit(0, 2)
})
