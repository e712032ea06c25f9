import { describe, expect, test } from 'bun:test'
import { renderHtml, renderSummary } from './report.ts'
import { barChart, bin, escapeXml, histogram, lineChart, niceScale } from './svg.ts'
import { sampleReport } from './test-fixtures.ts'

describe('svg charts', () => {
  test('niceScale covers the maximum with round steps', () => {
    expect(niceScale(873)).toEqual({ top: 1000, step: 200 })
    expect(niceScale(0).top).toBe(1)
  })
  test('bin puts every finite sample in a bucket', () => {
    const b = bin([0, 1, 2, 3, 10, NaN], 5)
    expect(b).toHaveLength(5)
    expect(b.reduce((a, x) => a + x[1], 0)).toBe(5)
    expect(bin([], 5)).toEqual([])
  })
  test('charts are one escaped svg element each', () => {
    for (const svg of [
      barChart([{ label: 'a<b', values: [{ name: 'p99', value: 12 }, { name: 'p50', value: NaN }] }], { title: 'T & U', yLabel: 'ms', budget: { value: 800, label: 'budget' } }),
      lineChart([{ name: 's', points: [[1, 2], [2, 3]] }], { title: 't', yLabel: 'y', xLabel: 'x' }),
      histogram([1, 2, 3], { title: 'h', xLabel: 'ms', marks: [{ name: 'p99', value: 3 }] }),
      histogram([], { title: 'empty', xLabel: 'ms' })
    ]) {
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
      expect(svg.endsWith('</svg>')).toBe(true)
      expect(svg).not.toContain('NaN')
      expect(svg).not.toMatch(/<(?!\/?(svg|text|rect|line|polyline|title)[ >\/])/)
    }
    expect(escapeXml('<a href="x">&</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;')
  })
})

describe('report rendering', () => {
  test('HTML is a whole page with inline SVG charts and no external resource', () => {
    const html = renderHtml(sampleReport())
    expect(html.startsWith('<!doctype html>')).toBe(true)
    expect(html.trimEnd().endsWith('</html>')).toBe(true)
    expect((html.match(/<svg /g) ?? []).length).toBe(2 + 2 + 1) // write: latency + timeline, baselines: both, freshness: histogram
    expect((html.match(/<svg /g) ?? []).length).toBe((html.match(/<\/svg>/g) ?? []).length)
    expect(html).not.toMatch(/<script|<link|<img|src=|href="https?:/)
    expect(html).toContain('1. Write &lt;ramp&gt;')
    expect(html).toContain('class="st fail"')
  })
  test('summary has the scenario table and the ratios', () => {
    const md = renderSummary(sampleReport())
    expect(md).toContain('| scenario | status | headline | note |')
    expect(md).toContain('| API ÷ bare | 0.24 |')
    expect(md).toContain('Verdict: **FAIL**')
    expect(md).toContain('| 202 → readable | 5 | 1 |')
  })
})
