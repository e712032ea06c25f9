/**
 * dynalite on Bun vs on Node, same machine, same run: BatchWriteItem items/s and Query/s.
 * Picks the runtime the local stack uses for dynalite. Usage: bun bench/dynalite-runtime.ts [--items N] [--queries N] [--runs R]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb'
import { createDynamoClient } from '../shared/dynamo/client.ts'
import { ensureTable } from '../shared/dynamo/table.ts'
import { createLogger } from '../shared/log/logger.ts'
import { dynamoAnswers } from '../infra/dynalite/service.ts'
import { freePort } from '../infra/stack/service.ts'
import { median } from './lib/stats.ts'

const { values } = parseArgs({ options: { items: { type: 'string', default: '10000' }, queries: { type: 'string', default: '3000' }, runs: { type: 'string', default: '2' } } })
const items = Number(values.items)
const queries = Number(values.queries)
const runs = Number(values.runs)
const cli = join(import.meta.dir, '..', 'node_modules', 'dynalite', 'cli.js')
const quiet = createLogger('bench', 'error')

async function pool (n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < n) await task(next++) }))
}

async function measure (runtime: 'bun' | 'node'): Promise<{ writeItemsPerSec: number, queriesPerSec: number }> {
  const dir = mkdtempSync(join(tmpdir(), `dynalite-${runtime}-`))
  const port = freePort()
  const exe = runtime === 'bun' ? process.execPath : 'node'
  const proc = Bun.spawn([exe, cli, '--host', '127.0.0.1', '--port', String(port), '--path', dir, '--createTableMs', '0'], { stdout: 'ignore', stderr: 'ignore' })
  try {
    const endpoint = `http://127.0.0.1:${port}`
    for (let i = 0; i < 100 && !(await dynamoAnswers(endpoint).catch(() => false)); i++) await Bun.sleep(100)
    const db = createDynamoClient({ DYNAMODB_ENDPOINT: endpoint, AWS_REGION: 'local' })
    await ensureTable(db, 'bench', quiet)
    const batches = Math.ceil(items / 25)
    let t0 = performance.now()
    await pool(batches, 4, async b => {
      const req = Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: { pk: `U#user-${(b * 25 + i) % 1000}`, sk: `RES#${b}-${i}`, title: 'Flight to Lisbon', startsAt: '2027-01-01T10:00:00.000Z', notes: 'x'.repeat(200) } } }))
      const res = await db.send(new BatchWriteCommand({ RequestItems: { bench: req } }))
      if (Object.keys(res.UnprocessedItems ?? {}).length) throw new Error('unprocessed items')
    })
    const writeItemsPerSec = (batches * 25) / ((performance.now() - t0) / 1000)
    t0 = performance.now()
    await pool(queries, 8, async i => {
      await db.send(new QueryCommand({ TableName: 'bench', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `U#user-${i % 1000}` } }))
    })
    const queriesPerSec = queries / ((performance.now() - t0) / 1000)
    db.destroy()
    return { writeItemsPerSec, queriesPerSec }
  } finally {
    proc.kill('SIGTERM')
    await proc.exited
    rmSync(dir, { recursive: true, force: true })
  }
}

const results: Record<'bun' | 'node', Array<{ writeItemsPerSec: number, queriesPerSec: number }>> = { bun: [], node: [] }
for (let r = 0; r < runs; r++) {
  for (const rt of (r % 2 ? ['node', 'bun'] : ['bun', 'node']) as Array<'bun' | 'node'>) {
    process.stderr.write(`run ${r + 1}/${runs}: dynalite on ${rt}…\n`)
    results[rt].push(await measure(rt))
  }
}
const row = (label: string, key: 'writeItemsPerSec' | 'queriesPerSec') => {
  const b = median(results.bun.map(x => x[key]))
  const n = median(results.node.map(x => x[key]))
  return `| ${label} | ${Math.round(b)} | ${Math.round(n)} | ${(b / n).toFixed(2)} |`
}
console.log(`dynalite, ${items} items in BatchWriteItem of 25 (4 in flight), ${queries} Queries (8 in flight), median of ${runs} runs\n`)
console.log('| measure | on Bun | on Node | Bun / Node |\n| --- | ---: | ---: | ---: |')
console.log(row('BatchWriteItem, items/s', 'writeItemsPerSec'))
console.log(row('Query/s', 'queriesPerSec'))
