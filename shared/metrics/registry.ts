/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms with labels.
 * Names follow `<component>_<operation>_<unit>`.
 */
type Labels = Record<string, string | number>

function labelKey (labels: Labels): string {
  const keys = Object.keys(labels).sort()
  return keys.map(k => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')
}

interface Metric { render (): string }

export class Counter implements Metric {
  private readonly values = new Map<string, number>()
  constructor (readonly name: string, readonly help: string) {}
  inc (labels: Labels = {}, by = 1): void {
    const key = labelKey(labels)
    this.values.set(key, (this.values.get(key) ?? 0) + by)
  }
  get (labels: Labels = {}): number { return this.values.get(labelKey(labels)) ?? 0 }
  render (): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`)
    return lines.join('\n')
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>()
  constructor (readonly name: string, readonly help: string, private readonly collect?: () => Array<[Labels, number]>) {}
  set (labels: Labels, value: number): void { this.values.set(labelKey(labels), value) }
  inc (labels: Labels = {}, by = 1): void { const k = labelKey(labels); this.values.set(k, (this.values.get(k) ?? 0) + by) }
  dec (labels: Labels = {}, by = 1): void { this.inc(labels, -by) }
  get (labels: Labels = {}): number { return this.values.get(labelKey(labels)) ?? 0 }
  render (): string {
    if (this.collect) for (const [l, v] of this.collect()) this.set(l, v)
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`]
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`)
    return lines.join('\n')
  }
}

/** Latency buckets in seconds, dense around the 800 ms budget. */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 2, 5, 10]

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[], sum: number, count: number }>()
  constructor (readonly name: string, readonly help: string, readonly buckets: number[] = latencyBuckets) {}
  observe (labels: Labels, value: number): void {
    const key = labelKey(labels)
    let s = this.series.get(key)
    if (!s) { s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 }; this.series.set(key, s) }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++
    s.sum += value
    s.count++
  }
  render (): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const [k, s] of this.series) {
      const sep = k ? ',' : ''
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`))
      lines.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`)
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`)
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`)
    }
    return lines.join('\n')
  }
}

export class Registry {
  private readonly metrics: Metric[] = []
  counter (name: string, help: string): Counter { return this.add(new Counter(name, help)) }
  gauge (name: string, help: string, collect?: () => Array<[Labels, number]>): Gauge { return this.add(new Gauge(name, help, collect)) }
  histogram (name: string, help: string, buckets?: number[]): Histogram { return this.add(new Histogram(name, help, buckets)) }
  render (): string { return this.metrics.map(m => m.render()).join('\n') + '\n' }
  private add<M extends Metric> (m: M): M { this.metrics.push(m); return m }
}

export const contentType = 'text/plain; version=0.0.4; charset=utf-8'
