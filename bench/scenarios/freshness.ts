import { QueryCommand } from '@aws-sdk/lib-dynamodb'
import { fold } from '../../shared/domain/fold.ts'
import { SK, userPk } from '../../shared/domain/keys.ts'
import type { Command } from '../../shared/schemas/command.ts'
import { postReservation, readable, secs, token, type BenchContext } from '../lib/context.ts'
import { freePort } from '../lib/processes.ts'
import { batchWrite } from '../lib/seed.ts'
import { budgetVerdict, fmtMs, summarize } from '../lib/stats.ts'
import type { Delays, Scenario } from '../lib/types.ts'

interface Pending { userId: string, id: string, at: number, readableAt?: number, notifiedAt?: number }

/**
 * Scenario 4, freshness: writes at a constant arrival rate (one new user each, so every write is a
 * first change), then for each: the delay from the API's 202 to the reservation being readable
 * (consistent BatchGetItem every 50 ms) and to its notification (the user's webhook, pointed at a
 * receiver in this process, or its NOTIF# item, whichever is seen first). Budget: 202 → readable
 * p99 within 800 ms (DESIGN.md). The users' settings (with the webhook) are written beforehand
 * straight to the table, as the fold builds them.
 */
export async function freshnessScenario (ctx: BenchContext): Promise<Scenario> {
  const id = 'freshness'
  const title = '4. Freshness: 202 → readable, 202 → notification'
  const rate = Math.min(100, Math.max(10, Math.round((ctx.found.writeMax?.rps ?? 100) * 0.1)))
  const durationS = secs(ctx, 6, 20)
  const count = rate * durationS
  const users = Array.from({ length: count }, (_, i) => `bench-f-${ctx.runId}-${i}`)

  const byId = new Map<string, Pending>()
  const hookPort = freePort()
  const hook = Bun.serve({
    hostname: '127.0.0.1', port: hookPort,
    async fetch (req) {
      const now = Date.now()
      const text = await req.text()
      for (const m of text.matchAll(/[0-9A-HJKMNP-TV-Z]{26}/g)) { const p = byId.get(m[0]); if (p && p.notifiedAt === undefined) p.notifiedAt = now }
      return new Response(null, { status: 204 })
    }
  })
  try {
    // Settings with a webhook for every user, as the updater would have written them.
    const settings = users.map(u => [...fold(u, new Map(), [{ offset: 0, command: { v: 1, id: '01J0000000000000000000SET0', type: 'settings.put', userId: u, actorId: u, acceptedAt: Date.now(), payload: { webhook: { url: `http://127.0.0.1:${hookPort}/hook`, secret: 'bench-webhook-secret-0123456789' } } } as Command }]).writes.values()]).flat()
    for (let i = 0; i < settings.length; i += 25) await batchWrite(ctx.db, ctx.table, settings.slice(i, i + 25) as unknown as Record<string, unknown>[])

    ctx.progress(`freshness: ${rate} writes/s for ${durationS} s (${count} new users), polling the table every 50 ms`)
    const tokens = users.map(u => token(ctx.jwtSecret, u))
    const posts: Promise<void>[] = []
    let failed = 0
    const t0 = performance.now()
    let sending = true
    const sender = (async () => {
      for (let i = 0; i < count; i++) {
        const wait = t0 + (i * 1000) / rate - performance.now()
        if (wait > 0) await Bun.sleep(wait)
        posts.push(postReservation(ctx, users[i]!, tokens[i]!, i).then(r => { if ('id' in r) byId.set(r.id, { userId: users[i]!, id: r.id, at: r.at }); else failed++ }))
      }
      await Promise.all(posts)
      sending = false
    })()
    const grace = ctx.found.updaterApplies === false ? 3000 : secs(ctx, 10_000, 30_000)
    let lastSend = Infinity
    let notifCursor = 0
    let lastNotifPoll = 0
    while (true) {
      const all = [...byId.values()]
      const waitingRead = all.filter(p => p.readableAt === undefined)
      if (waitingRead.length) {
        const seen = await readable(ctx.db, ctx.table, waitingRead.map(p => ({ userId: p.userId, reservationId: p.id })))
        const now = Date.now()
        for (const p of waitingRead) if (seen.has(p.id)) p.readableAt = now
      }
      const waitingNotif = all.filter(p => p.readableAt !== undefined && p.notifiedAt === undefined)
      if (waitingNotif.length && Date.now() - lastNotifPoll > 250) {
        lastNotifPoll = Date.now()
        const batch = Array.from({ length: Math.min(20, waitingNotif.length) }, (_, k) => waitingNotif[(notifCursor + k) % waitingNotif.length]!)
        notifCursor += batch.length
        await Promise.all(batch.map(async p => {
          const out = await ctx.db.send(new QueryCommand({ TableName: ctx.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)', ExpressionAttributeValues: { ':pk': userPk(p.userId), ':n': SK.notification }, ScanIndexForward: false, Limit: 5 }))
          if ((out.Items ?? []).some(n => n.reservationId === p.id) && p.notifiedAt === undefined) p.notifiedAt = Date.now()
        }))
      }
      if (!sending && lastSend === Infinity) lastSend = performance.now()
      const done = !sending && all.every(p => p.readableAt !== undefined && p.notifiedAt !== undefined)
      if (done || performance.now() - lastSend > grace) break
      await Bun.sleep(50)
    }
    await sender

    const all = [...byId.values()]
    const delays = (label: string, pick: (p: Pending) => number | undefined): Delays => {
      const samples = all.flatMap(p => { const t = pick(p); return t === undefined ? [] : [t - p.at] })
      return { label, samples, missing: all.length - samples.length, summary: summarize(samples) }
    }
    const toRead = delays('202 → readable', p => p.readableAt)
    const toNotif = delays('202 → notification', p => p.notifiedAt)
    ctx.progress(`freshness: readable ${toRead.summary.count}/${all.length} (p99 ${fmtMs(toRead.summary.p99)}), notified ${toNotif.summary.count}/${all.length} (p99 ${fmtMs(toNotif.summary.p99)})`)
    const metrics = { 'writes/s': rate, 'accepted': all.length, 'refused or failed': failed, 'readable p50 ms': toRead.summary.p50, 'readable p99 ms': toRead.summary.p99, 'readable max ms': toRead.summary.max, 'notified p50 ms': toNotif.summary.p50, 'notified p99 ms': toNotif.summary.p99, 'notified max ms': toNotif.summary.max }
    const base = { id, title, runs: [], metrics, ratios: [], delays: [toRead, toNotif], seconds: 0 }
    if (all.length === 0) return { ...base, status: 'error', note: `no write was accepted (${failed} failed)` }
    if (toRead.summary.count === 0) return { ...base, status: 'error', note: `no accepted write became readable within ${grace / 1000} s of the last one: the updater is not applying commands (not built yet?)` }
    const v = budgetVerdict([{ route: '202 → readable', p99: toRead.summary.p99, errorRate: toRead.missing / all.length }], ctx.budgetMs)
    const notifNote = toNotif.summary.count === 0 ? 'no notification seen (webhook nor NOTIF# item): the notifier is not notifying (not built yet?)' : `notification p50 ${fmtMs(toNotif.summary.p50)}, p99 ${fmtMs(toNotif.summary.p99)}, ${toNotif.missing} missing`
    const status = v.status === 'pass' && toNotif.summary.count === 0 ? 'error' : v.status
    return { ...base, status, note: `${v.note}${toRead.missing ? ` (${toRead.missing} never readable)` : ''}; ${notifNote}` }
  } finally {
    hook.stop(true)
  }
}
