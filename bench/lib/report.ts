import { fmtMs, fmtNum } from './stats.ts'
import { barChart, escapeXml, histogram, lineChart } from './svg.ts'
import type { LoadRun, Report, Scenario } from './types.ts'

/** Markdown and HTML renderings of a report; pure functions of the report object. */

const STATUS_MARK: Record<Scenario['status'], string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', info: 'info' }
const pct = (x: number | undefined) => x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(0)} %`
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** The headline of a scenario: its first ratio if any, else its first metric. */
function headline (s: Scenario): string {
  const r = s.ratios[0]
  if (r) return `${r.name} = ${fmtNum(r.value, 2)}`
  const [k, v] = Object.entries(s.metrics)[0] ?? []
  return k ? `${k} = ${fmtNum(v, 1)}` : ''
}

export function runRow (r: LoadRun): string {
  const errs = r.errors + r.timeouts + r.non2xx
  return `| ${cell(r.label)} | ${r.model} | ${r.connections} | ${r.rate ? fmtNum(r.rate) : '—'} | ${fmtNum(r.rps)} | ${fmtMs(r.latency.p50)} | ${fmtMs(r.latency.p99)} | ${fmtMs(r.latency.p999)} | ${errs ? `${errs} (${Object.entries(r.statusCodes).filter(([c]) => !c.startsWith('2')).map(([c, n]) => `${c}×${n}`).join(' ')}${r.timeouts ? ` timeouts×${r.timeouts}` : ''})` : '0'} | ${pct(r.cpu?.shareOfMachine)} / ${pct(r.cpu?.shareOfBusy)} |`
}

export function renderSummary (rep: Report): string {
  const L: string[] = []
  L.push(`# Road Warrior benchmark — ${rep.startedAt}${rep.quick ? ' (quick)' : ''}`, '')
  L.push(`Verdict: **${rep.verdict.ok ? 'PASS' : 'FAIL'}** (budget: p99 ≤ ${rep.budgetMs} ms for every route at 80 % of the sustainable write rate).`)
  for (const f of rep.verdict.failures) L.push(`- ${f}`)
  L.push('', `Machine: ${rep.machine.cores} cores shared with everything else (load average ${rep.machine.loadAverage.map(x => x.toFixed(2)).join(' ')} at start), Bun ${rep.machine.bun}. ` +
    `Stack: ${rep.stack.reused ? 'reused a running one' : 'started by the bench'}, ${rep.stack.apiProcesses} API processes behind HAProxy, ${rep.stack.commandPartitions} command partitions, ${fmtNum(rep.stack.seededUsers)} seeded users. ` +
    'Absolute figures on a shared 2-core machine mean little: read the ratios.', '')
  L.push('## Scenarios', '', '| scenario | status | headline | note |', '| --- | --- | --- | --- |')
  for (const s of rep.scenarios) L.push(`| ${cell(s.title)} | ${STATUS_MARK[s.status]} | ${cell(headline(s))} | ${cell(s.note)} |`)
  L.push('', '## Ratios to baselines (same run, same machine, same generator)', '', '| ratio | value | numerator | denominator |', '| --- | ---: | --- | --- |')
  for (const s of rep.scenarios) {
    for (const r of s.ratios) {
      L.push(`| ${cell(r.name)} | ${fmtNum(r.value, 2)} | ${cell(r.numerator.label)}: ${fmtNum(r.numerator.value, 1)} ${r.numerator.unit} | ${cell(r.denominator.label)}: ${fmtNum(r.denominator.value, 1)} ${r.denominator.unit} |`)
    }
  }
  L.push('', '## Load runs', '', 'Generator CPU: its share of the machine (CPU time ÷ wall × cores) / its share of all busy CPU during the run. ' +
    'Open-model runs use autocannon\'s overallRate, which does not correct for coordinated omission: a run that falls behind its target shows as "target rate not reached" in its verdict.', '')
  L.push('| run | model | conns | target req/s | req/s | p50 | p99 | p99.9 | errors | generator CPU |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |')
  for (const s of rep.scenarios) for (const r of s.runs) L.push(runRow(r))
  const delays = rep.scenarios.flatMap(s => s.delays ?? [])
  if (delays.length) {
    L.push('', '## Delays', '', '| delay | samples | missing | p50 | p99 | max |', '| --- | ---: | ---: | ---: | ---: | ---: |')
    for (const d of delays) L.push(`| ${cell(d.label)} | ${d.summary.count} | ${d.missing} | ${fmtMs(d.summary.p50)} | ${fmtMs(d.summary.p99)} | ${fmtMs(d.summary.max)} |`)
  }
  L.push('', '## Figures', '', '| scenario | metric | value |', '| --- | --- | ---: |')
  for (const s of rep.scenarios) for (const [k, v] of Object.entries(s.metrics)) L.push(`| ${s.id} | ${cell(k)} | ${fmtNum(v, 1)} |`)
  return L.join('\n') + '\n'
}

/** The charts of one scenario: latency percentiles and throughput over time of its runs, its delay histograms. */
export function scenarioCharts (s: Scenario, budgetMs: number): string[] {
  const out: string[] = []
  if (s.runs.length) {
    out.push(barChart(s.runs.map(r => ({ label: r.label, values: [
      { name: 'p50', value: r.latency.p50 }, { name: 'p90', value: r.latency.p90 }, { name: 'p99', value: r.latency.p99 }, { name: 'p99.9', value: r.latency.p999 }
    ] })), { title: `${s.title}: latency percentiles`, yLabel: 'ms', budget: { value: budgetMs, label: `budget ${budgetMs} ms` } }))
    out.push(lineChart(s.runs.map(r => ({ name: r.label, points: r.timeline.map((n, i) => [i + 1, n] as [number, number]) })),
      { title: `${s.title}: throughput over time`, yLabel: 'completed req/s', xLabel: 'seconds into the run' }))
  }
  for (const d of s.delays ?? []) {
    out.push(histogram(d.samples, { title: `${d.label}: delay distribution (${d.summary.count} samples)`, xLabel: 'ms', marks: [{ name: 'p50', value: d.summary.p50 }, { name: 'p99', value: d.summary.p99 }] }))
  }
  return out
}

/** A self-contained HTML page: the summary's tables and inline SVG charts, no script, no external resource. */
export function renderHtml (rep: Report): string {
  const e = escapeXml
  const ratioRows = rep.scenarios.flatMap(s => s.ratios.map(r => `<tr><td>${e(r.name)}</td><td class="n">${e(fmtNum(r.value, 2))}</td><td>${e(`${r.numerator.label}: ${fmtNum(r.numerator.value, 1)} ${r.numerator.unit}`)}</td><td>${e(`${r.denominator.label}: ${fmtNum(r.denominator.value, 1)} ${r.denominator.unit}`)}</td></tr>`)).join('')
  const sections = rep.scenarios.map(s => {
    const runs = s.runs.map(r => `<tr><td>${e(r.label)}</td><td>${r.model}</td><td class="n">${r.connections}</td><td class="n">${r.rate ? e(fmtNum(r.rate)) : '—'}</td><td class="n">${e(fmtNum(r.rps))}</td><td class="n">${e(fmtMs(r.latency.p50))}</td><td class="n">${e(fmtMs(r.latency.p99))}</td><td class="n">${e(fmtMs(r.latency.p999))}</td><td class="n">${r.errors + r.timeouts + r.non2xx}</td><td class="n">${e(pct(r.cpu?.shareOfMachine))}</td></tr>`).join('')
    const metrics = Object.entries(s.metrics).map(([k, v]) => `<li>${e(k)}: <b>${e(fmtNum(v, 1))}</b></li>`).join('')
    return `<section id="${e(s.id)}"><h2>${e(s.title)} <span class="st ${s.status}">${STATUS_MARK[s.status]}</span></h2><p>${e(s.note)}</p>` +
      (metrics ? `<ul>${metrics}</ul>` : '') +
      (runs ? `<table><tr><th>run</th><th>model</th><th>conns</th><th>target req/s</th><th>req/s</th><th>p50</th><th>p99</th><th>p99.9</th><th>errors</th><th>gen. CPU</th></tr>${runs}</table>` : '') +
      `<div class="charts">${scenarioCharts(s, rep.budgetMs).join('\n')}</div></section>`
  }).join('\n')
  const summaryRows = rep.scenarios.map(s => `<tr><td><a href="#${e(s.id)}">${e(s.title)}</a></td><td><span class="st ${s.status}">${STATUS_MARK[s.status]}</span></td><td>${e(headline(s))}</td><td>${e(s.note)}</td></tr>`).join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Road Warrior benchmark ${e(rep.startedAt)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#111}table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px;vertical-align:top}td.n{text-align:right}.st{font-size:12px;padding:1px 6px;border-radius:4px;color:#fff}.pass{background:#16a34a}.fail{background:#dc2626}.error{background:#9333ea}.info{background:#6b7280}.charts svg{margin:.5rem 0;max-width:100%;height:auto;border:1px solid #eee}</style>
</head><body>
<h1>Road Warrior benchmark${rep.quick ? ' (quick)' : ''}</h1>
<p>${e(rep.startedAt)} → ${e(rep.finishedAt)}. Verdict: <span class="st ${rep.verdict.ok ? 'pass' : 'fail'}">${rep.verdict.ok ? 'PASS' : 'FAIL'}</span> — budget p99 ≤ ${rep.budgetMs} ms for every route at 80 % of the sustainable write rate.</p>
${rep.verdict.failures.length ? `<ul>${rep.verdict.failures.map(f => `<li>${e(f)}</li>`).join('')}</ul>` : ''}
<p>${rep.machine.cores} cores shared by the stack, the baselines and the load generator; Bun ${e(rep.machine.bun)}. Stack ${rep.stack.reused ? 'reused' : 'started by the bench'} at ${e(rep.stack.apiUrl)}: ${rep.stack.apiProcesses} API processes, ${rep.stack.commandPartitions} partitions, ${e(fmtNum(rep.stack.seededUsers))} seeded users. Absolute figures mean little here: read the ratios.</p>
<table><tr><th>scenario</th><th>status</th><th>headline</th><th>note</th></tr>${summaryRows}</table>
<h2>Ratios to baselines</h2>
<table><tr><th>ratio</th><th>value</th><th>numerator</th><th>denominator</th></tr>${ratioRows}</table>
${sections}
</body></html>
`
}
