import { describe, expect, test } from 'bun:test'
import { budgetVerdict, cpuShares, errorRate, overallVerdict, percentile, safeRatio, stepBreaks, summarize, sustainable } from './stats.ts'

describe('percentile', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1)
  test('nearest rank', () => {
    expect(percentile(xs, 50)).toBe(50)
    expect(percentile(xs, 99)).toBe(99)
    expect(percentile(xs, 99.9)).toBe(100)
    expect(percentile(xs, 0)).toBe(1)
    expect(percentile(xs, 100)).toBe(100)
  })
  test('small and empty samples', () => {
    expect(percentile([7], 99)).toBe(7)
    expect(percentile([1, 2], 50)).toBe(1)
    expect(percentile([], 50)).toBeNaN()
  })
  test('summarize sorts and skips non-finite values', () => {
    const s = summarize([5, 1, NaN, 3, 2, 4, Infinity])
    expect(s).toMatchObject({ count: 5, p50: 3, max: 5, mean: 3 })
  })
})

describe('ratios and verdicts', () => {
  test('safeRatio refuses missing or zero denominators', () => {
    expect(safeRatio(3, 4)).toBe(0.75)
    expect(safeRatio(3, 0)).toBeNull()
    expect(safeRatio(NaN, 2)).toBeNull()
    expect(safeRatio(undefined, 2)).toBeNull()
  })
  test('errorRate counts errors, timeouts and non-2xx', () => {
    expect(errorRate({ requests: 98, errors: 1, timeouts: 1, non2xx: 0 })).toBeCloseTo(0.02)
    expect(errorRate({ requests: 0, errors: 0, timeouts: 0, non2xx: 0 })).toBe(0)
  })
  test('a ramp step breaks on p99 over budget or any error', () => {
    expect(stepBreaks({ connections: 8, rps: 100, p99: 799, errorRate: 0 }, 800)).toBe(false)
    expect(stepBreaks({ connections: 8, rps: 100, p99: 801, errorRate: 0 }, 800)).toBe(true)
    expect(stepBreaks({ connections: 8, rps: 100, p99: 10, errorRate: 0.001 }, 800)).toBe(true)
    expect(stepBreaks({ connections: 8, rps: 100, p99: NaN, errorRate: 0 }, 800)).toBe(true)
  })
  test('sustainable picks the best step within budget', () => {
    const steps = [
      { connections: 8, rps: 500, p99: 20, errorRate: 0 },
      { connections: 32, rps: 900, p99: 90, errorRate: 0 },
      { connections: 128, rps: 950, p99: 900, errorRate: 0 }
    ]
    expect(sustainable(steps, 800)?.connections).toBe(32)
    expect(sustainable([steps[2]!], 800)).toBeUndefined()
  })
  test('budgetVerdict passes only when every route is within budget', () => {
    const ok = budgetVerdict([{ route: 'GET', p99: 100, errorRate: 0 }, { route: 'POST', p99: 700, errorRate: 0 }], 800)
    expect(ok.status).toBe('pass')
    const bad = budgetVerdict([{ route: 'GET', p99: 100, errorRate: 0 }, { route: 'POST', p99: 900, errorRate: 0 }], 800)
    expect(bad.status).toBe('fail')
    expect(bad.note).toContain('POST')
    expect(budgetVerdict([{ route: 'GET', p99: 10, errorRate: 0.01 }], 800).status).toBe('fail')
    expect(budgetVerdict([], 800).status).toBe('error')
  })
  test('overallVerdict lists failed and errored scenarios, not info', () => {
    const v = overallVerdict([{ id: 'a', status: 'pass', note: '' }, { id: 'b', status: 'info', note: '' }, { id: 'c', status: 'error', note: 'x' }, { id: 'd', status: 'fail', note: 'y' }])
    expect(v.ok).toBe(false)
    expect(v.failures.map(f => f.split(':')[0])).toEqual(['c', 'd'])
    expect(overallVerdict([{ id: 'a', status: 'pass', note: '' }]).ok).toBe(true)
  })
  test('cpuShares from raw counters', () => {
    // 1 s of generator CPU over 2 s wall on 2 cores = 25 % of the machine; machine 50 % busy = 2 s busy: half of it.
    const s = cpuShares(1_000_000, 2000, 2, 200, 400)
    expect(s.shareOfMachine).toBeCloseTo(0.25)
    expect(s.machineBusy).toBeCloseTo(0.5)
    expect(s.shareOfBusy).toBeCloseTo(0.5)
    expect(cpuShares(1, 1000, 2, 0, 0).shareOfBusy).toBe(0)
  })
})

describe('mixed rate', () => {
  test('combined sustainable rate of an 80/20 mix', async () => {
    const { combinedRate } = await import('../scenarios/mixed.ts')
    // 80 % reads at 400/s capacity and 20 % writes at 4000/s: 1 / (0.002 + 0.00005)
    expect(combinedRate(400, 4000)).toBeCloseTo(487.8, 1)
    expect(combinedRate(1000, 1000)).toBeCloseTo(1000)
  })
})

describe('mixed ramp', () => {
  test('steps rise to the formula estimate, no higher', async () => {
    const { MIX_RAMP_STEPS } = await import('../scenarios/mixed.ts')
    expect([...MIX_RAMP_STEPS]).toEqual([...MIX_RAMP_STEPS].sort((a, b) => a - b))
    expect(MIX_RAMP_STEPS.at(-1)).toBe(1)
  })
})
