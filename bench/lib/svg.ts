/**
 * Tiny inline-SVG charts for the HTML report (no library, no CDN): grouped bars, lines, a histogram.
 * Each returns one `<svg>` element as a string; every text is XML-escaped.
 */

export const escapeXml = (s: string): string => s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

const W = 720
const H = 280
const M = { top: 34, right: 16, bottom: 58, left: 64 }
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563']
export const color = (i: number): string => PALETTE[i % PALETTE.length]!

const fmt = (v: number): string => Math.abs(v) >= 1000 ? `${Math.round(v / 100) / 10}k` : Math.abs(v) >= 10 ? String(Math.round(v)) : String(Math.round(v * 10) / 10)

/** "Nice" upper bound and tick step for 0..max. */
export function niceScale (max: number, ticks = 5): { top: number, step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.2 }
  const raw = max / ticks
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw)!
  return { top: Math.ceil(max / step) * step, step }
}

function frame (title: string, body: string, yLabel: string, xLabel: string, legend: Array<{ name: string, color: string }>): string {
  const leg = legend.map((l, i) => {
    const x = M.left + (i % 5) * 130
    const y = H - 14 + Math.floor(i / 5) * 12
    return `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${l.color}"/><text x="${x + 14}" y="${y}" font-size="11">${escapeXml(l.name.slice(0, 20))}</text>`
  }).join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(title)}" font-family="system-ui, sans-serif">` +
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(title)}</text>` +
    `<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escapeXml(yLabel)}</text>` +
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 30}" text-anchor="middle" font-size="11">${escapeXml(xLabel)}</text>` +
    body + leg + '</svg>'
}

function yAxis (top: number, step: number, y: (v: number) => number, budget?: { value: number, label: string }): string {
  let out = ''
  for (let v = 0; v <= top + step / 2; v += step) {
    const yy = y(v).toFixed(1)
    out += `<line x1="${M.left}" x2="${W - M.right}" y1="${yy}" y2="${yy}" stroke="#e5e7eb"/><text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="10">${fmt(v)}</text>`
  }
  if (budget && budget.value <= top) {
    out += `<line x1="${M.left}" x2="${W - M.right}" y1="${y(budget.value)}" y2="${y(budget.value)}" stroke="#dc2626" stroke-dasharray="6 4"/><text x="${W - M.right}" y="${y(budget.value) - 4}" text-anchor="end" font-size="10" fill="#dc2626">${escapeXml(budget.label)}</text>`
  }
  return out
}

export interface BarGroup { label: string, values: Array<{ name: string, value: number }> }

/** Grouped bars, e.g. p50/p90/p99/p99.9 per run. Non-finite values are drawn as absent. */
export function barChart (groups: readonly BarGroup[], o: { title: string, yLabel: string, xLabel?: string, budget?: { value: number, label: string } }): string {
  const names = [...new Set(groups.flatMap(g => g.values.map(v => v.name)))]
  const max = Math.max(0, ...groups.flatMap(g => g.values.map(v => v.value)).filter(Number.isFinite), o.budget?.value ?? 0)
  const { top, step } = niceScale(max)
  const plotW = W - M.left - M.right
  const plotH = H - M.top - M.bottom
  const y = (v: number) => M.top + plotH - (Math.min(v, top) / top) * plotH
  const gw = plotW / Math.max(1, groups.length)
  const bw = Math.max(2, (gw * 0.8) / Math.max(1, names.length))
  let body = yAxis(top, step, y, o.budget)
  groups.forEach((g, gi) => {
    const x0 = M.left + gi * gw + gw * 0.1
    for (const v of g.values) {
      if (!Number.isFinite(v.value)) continue
      const ni = names.indexOf(v.name)
      body += `<rect x="${(x0 + ni * bw).toFixed(1)}" y="${y(v.value).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(M.top + plotH - y(v.value)).toFixed(1)}" fill="${color(ni)}"><title>${escapeXml(`${g.label} ${v.name}: ${fmt(v.value)}`)}</title></rect>`
    }
    body += `<text x="${(M.left + gi * gw + gw / 2).toFixed(1)}" y="${M.top + plotH + 13}" text-anchor="middle" font-size="10">${escapeXml(g.label.slice(0, Math.max(6, Math.floor(gw / 6))))}</text>`
  })
  return frame(o.title, body, o.yLabel, o.xLabel ?? '', names.map((n, i) => ({ name: n, color: color(i) })))
}

export interface Series { name: string, points: Array<[number, number]> }

/** Lines over a shared x axis, e.g. completed requests per second over time. */
export function lineChart (series: readonly Series[], o: { title: string, yLabel: string, xLabel: string, budget?: { value: number, label: string } }): string {
  const xs = series.flatMap(s => s.points.map(p => p[0])).filter(Number.isFinite)
  const ys = series.flatMap(s => s.points.map(p => p[1])).filter(Number.isFinite)
  const xMax = Math.max(1, ...xs)
  const { top, step } = niceScale(Math.max(0, ...ys, o.budget?.value ?? 0))
  const plotW = W - M.left - M.right
  const plotH = H - M.top - M.bottom
  const x = (v: number) => M.left + (v / xMax) * plotW
  const y = (v: number) => M.top + plotH - (Math.min(v, top) / top) * plotH
  let body = yAxis(top, step, y, o.budget)
  const xt = niceScale(xMax, 6)
  for (let v = 0; v <= xMax; v += xt.step) body += `<text x="${x(v).toFixed(1)}" y="${M.top + plotH + 13}" text-anchor="middle" font-size="10">${fmt(v)}</text>`
  series.forEach((s, i) => {
    const pts = s.points.filter(p => Number.isFinite(p[0]) && Number.isFinite(p[1]))
    if (pts.length === 0) return
    body += `<polyline fill="none" stroke="${color(i)}" stroke-width="1.8" points="${pts.map(p => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"><title>${escapeXml(s.name)}</title></polyline>`
  })
  return frame(o.title, body, o.yLabel, o.xLabel, series.map((s, i) => ({ name: s.name, color: color(i) })))
}

/** Bins `samples` into `bins` equal-width buckets from 0 to max: [upper bound, count][]. */
export function bin (samples: readonly number[], bins: number): Array<[number, number]> {
  const v = samples.filter(Number.isFinite)
  if (v.length === 0 || bins < 1) return []
  const max = Math.max(...v)
  const width = max > 0 ? max / bins : 1
  const out: Array<[number, number]> = Array.from({ length: bins }, (_, i) => [width * (i + 1), 0])
  for (const s of v) out[Math.min(bins - 1, Math.max(0, Math.floor(s / width)))]![1]++
  return out
}

/** Histogram of delay samples (ms) with the percentiles marked. */
export function histogram (samples: readonly number[], o: { title: string, xLabel: string, marks?: Array<{ name: string, value: number }>, bins?: number }): string {
  const b = bin(samples, o.bins ?? 30)
  const xMax = b.length ? b[b.length - 1]![0] : 1
  const { top, step } = niceScale(Math.max(0, ...b.map(x => x[1])))
  const plotW = W - M.left - M.right
  const plotH = H - M.top - M.bottom
  const x = (v: number) => M.left + (v / xMax) * plotW
  const y = (v: number) => M.top + plotH - (v / top) * plotH
  let body = yAxis(top, step, y)
  const bw = b.length ? plotW / b.length : 0
  b.forEach(([upper, count], i) => {
    if (count > 0) body += `<rect x="${(M.left + i * bw).toFixed(1)}" y="${y(count).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${(M.top + plotH - y(count)).toFixed(1)}" fill="${color(0)}"><title>≤ ${fmt(upper)} ms: ${count}</title></rect>`
  })
  const xt = niceScale(xMax, 6)
  for (let v = 0; v <= xMax; v += xt.step) body += `<text x="${x(v).toFixed(1)}" y="${M.top + plotH + 13}" text-anchor="middle" font-size="10">${fmt(v)}</text>`
  const marks = (o.marks ?? []).filter(m => Number.isFinite(m.value))
  marks.forEach((m, i) => {
    const mx = x(Math.min(m.value, xMax)).toFixed(1)
    body += `<line x1="${mx}" x2="${mx}" y1="${M.top}" y2="${M.top + plotH}" stroke="${color(i + 1)}" stroke-dasharray="4 3"/><text x="${mx}" y="${M.top - 4 + (i % 2) * 10}" text-anchor="middle" font-size="10" fill="${color(i + 1)}">${escapeXml(`${m.name} ${fmt(m.value)}`)}</text>`
  })
  if (b.length === 0) body += `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12" fill="#6b7280">no samples</text>`
  return frame(o.title, body, 'count', o.xLabel, marks.map((m, i) => ({ name: m.name, color: color(i + 1) })))
}
