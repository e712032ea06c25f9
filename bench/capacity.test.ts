import { describe, expect, test } from 'bun:test'
import { assumptions, measuredFrom, plan, renderCapacity } from './capacity.ts'
import { sampleReport } from './lib/test-fixtures.ts'

describe('capacity model', () => {
  test('per-process figures come from the report', () => {
    const rep = sampleReport()
    rep.scenarios.push({ id: 'read', title: 'r', status: 'pass', note: '', runs: [], metrics: { 'dashboard req/s (sustainable)': 600 }, ratios: [], seconds: 1 },
      { id: 'read-ceiling', title: 'c', status: 'info', note: '', runs: [], metrics: { 'Query/s (best)': 700 }, ratios: [], seconds: 1 },
      { id: 'drain', title: 'd', status: 'info', note: '', runs: [], metrics: { '1 updater commands/s': 1000, '1 updater items/s': 1100 }, ratios: [], seconds: 1 },
      { id: 'mixed-80-combined', title: 'm', status: 'pass', note: '', runs: [], metrics: { 'sustainable mixed req/s': 500, 'formula estimate req/s': 800 }, ratios: [], seconds: 1 })
    const m = measuredFrom(rep, 'x.json')
    expect(m).toMatchObject({ apiProcesses: 2, writePerProcess: 600, readPerProcess: 300, updaterPerProcess: 1000, updaterItemsPerProcess: 1100, mixedSustainable: 500, mixedEstimate: 800, readBottleneck: 'dynalite' })
    const p = plan(m)
    expect(p.agencyCommands).toBeCloseTo((150_000_000 / 300) * 0.01)
    expect(p.updaters).toBe(Math.ceil(p.commands / 800))
    expect(p.partitions! % 12).toBe(0)
    expect(p.partitions!).toBeGreaterThanOrEqual(p.updaters! * assumptions.partitionsPerUpdater)
    expect(renderCapacity(m, p)).toContain('**First bottleneck:**')
  })
  test('missing measurements say so instead of inventing numbers', () => {
    const m = measuredFrom({ ...sampleReport(), scenarios: [] }, 'x.json')
    const p = plan(m)
    expect(p.apiProcesses).toBeUndefined()
    expect(renderCapacity(m, p)).toContain('not measured in this report')
  })
})
