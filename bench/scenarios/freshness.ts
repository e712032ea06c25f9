import { QueryCommand } from '@aws-sdk/lib-dynamodb'
import { signRequest } from '../../api/agencies/signature.ts'
import { verifyWebhookSignature } from '../../notifier/webhook.ts'
import { SK, userPk } from '../../shared/domain/keys.ts'
import { readable, secs, token, type BenchContext } from '../lib/context.ts'
import { freePort } from '../lib/processes.ts'
import { reservationBody } from '../lib/seed.ts'
import { budgetVerdict, fmtMs, summarize } from '../lib/stats.ts'
import type { Delays, Scenario } from '../lib/types.ts'

interface Pending {
  userId: string
  n: number
  id: string
  /** Epoch ms of the create's 202. */
  at: number
  readableAt?: number
  /** Epoch ms of the agency update's 202. */
  updateAt?: number
  notifiedAt?: number
}

/**
 * What is gated. 202 → readable: p99 ≤ the 800 ms budget, ≤ 0.1 % never readable (DESIGN/README).
 * Agency update 202 → notification: reported with its own p50/p99/max, gated on completeness only
 * (≤ 0.1 % of accepted updates never notified within the grace, 10 s under --quick), not on the
 * 800 ms budget. Why: no requirement states a notification latency (800 ms is the web responses'
 * and the readable state's budget; notifications are pushed later), and on this shared 2-core
 * machine the figure measures the local database more than the notifier: at 10 updates/s p99 was
 * ≈ 0.1 s, at 100 updates/s ≈ 2.2 s, with the delay levelling off during the run rather than
 * growing (the notifier keeps up; each notification is several dynalite calls — dedupe claim,
 * NOTIF# item, settings — queued behind the updaters' writes and the API's reads on one
 * single-threaded dynalite). A missing notification is a bug; a slow one here is the machine.
 * Set NOTIFICATION_BUDGET_MS to gate its p99 as well.
 */
const NOTIFICATION_BUDGET_MS: number | undefined = undefined

const WEBHOOK_SECRET = 'bench-webhook-secret-0123456789'

async function fetchStatus (url: string, init: RequestInit): Promise<{ status: number, at: number, body: { id?: string } } | { error: string }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) })
    const at = Date.now()
    const body = await res.json().catch(() => ({})) as { id?: string }
    return { status: res.status, at, body }
  } catch (err) {
    return { error: (err as Error).name }
  }
}

/** Sends `count` requests at a constant arrival rate (open model); resolves when all answered. */
async function atRate (rate: number, count: number, send: (i: number) => Promise<void>): Promise<void> {
  const t0 = performance.now()
  const sent: Promise<void>[] = []
  for (let i = 0; i < count; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now()
    if (wait > 0) await Bun.sleep(wait)
    sent.push(send(i))
  }
  await Promise.all(sent)
}

async function pool (n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < n) await task(next++) }))
}

/**
 * Scenario 4, freshness, in two phases at a constant arrival rate through the API:
 * 1. creates (one new user each, the reservation booked through an agency): the delay from the
 *    API's 202 to the reservation being readable (consistent BatchGetItem every 50 ms);
 * 2. an agency update (`POST /v1/agencies/:agencyId/updates`, HMAC-signed, a reschedule) of each
 *    of those reservations: the delay from that 202 to the notification, seen at the user's webhook
 *    (set beforehand with `PUT /v1/me/settings`, pointed at a loopback receiver here that checks the
 *    signature) or as the user's NOTIF# item, whichever comes first. A creation is never notified
 *    (the notifier tells users of cancelled, rescheduled, updated and reinstated only), hence phase 2.
 * Delays are measured from when the 202 arrived here; the status event's acceptedAt is a little
 * earlier (when the API accepted it), so these are the delays a client sees.
 */
export async function freshnessScenario (ctx: BenchContext): Promise<Scenario> {
  const id = 'freshness'
  const title = '4. Freshness: create 202 → readable, agency update 202 → notification'
  const rate = Math.min(100, Math.max(10, Math.round((ctx.found.writeMax?.rps ?? 100) * 0.1)))
  const durationS = secs(ctx, 6, 20)
  const count = rate * durationS
  const users = Array.from({ length: count }, (_, i) => `bench-f-${ctx.runId}-${i}`)
  const base = { id, title, runs: [], ratios: [], seconds: 0 }

  let agencySecrets: Record<string, string> = {}
  try { agencySecrets = JSON.parse(ctx.stack.env.AGENCY_SECRETS ?? '{}') as Record<string, string> } catch {}
  const agencyId = Object.hasOwn(agencySecrets, 'demo') ? 'demo' : Object.keys(agencySecrets)[0]
  if (!agencyId) return { ...base, status: 'error', note: 'AGENCY_SECRETS of the stack names no agency: cannot send agency updates', metrics: {} }
  const agencySecret = agencySecrets[agencyId]!

  const all: Pending[] = []
  const byId = new Map<string, Pending>()
  let badSignatures = 0
  const hookPort = freePort()
  const hook = Bun.serve({
    hostname: '127.0.0.1', port: hookPort,
    async fetch (req) {
      const now = Date.now()
      const text = await req.text()
      if (!verifyWebhookSignature(WEBHOOK_SECRET, text, { signature: req.headers.get('x-roadwarrior-signature'), timestamp: req.headers.get('x-roadwarrior-timestamp') })) { badSignatures++; return new Response(null, { status: 401 }) }
      try {
        const n = (JSON.parse(text) as { notification?: { reservationId?: string } }).notification
        const p = n?.reservationId ? byId.get(n.reservationId) : undefined
        if (p && p.updateAt !== undefined && p.notifiedAt === undefined) p.notifiedAt = now
      } catch {}
      return new Response(null, { status: 204 })
    }
  })
  try {
    const tokens = users.map(u => token(ctx.jwtSecret, u))
    const json = (tok: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${tok}` })

    // 0. Every user's webhook, through the API (the updater applies it before the user's later commands: same partition).
    let settingsFailed = 0
    await pool(count, 32, async i => {
      const r = await fetchStatus(`${ctx.apiUrl}/v1/me/settings`, { method: 'PUT', headers: json(tokens[i]!), body: JSON.stringify({ webhook: { url: `http://127.0.0.1:${hookPort}/hook`, secret: WEBHOOK_SECRET } }) })
      if ('error' in r || r.status !== 202) settingsFailed++
    })

    // 1. Creates at a constant rate: 202 → readable.
    ctx.progress(`freshness: ${rate} creates/s for ${durationS} s (${count} new users, webhooks set: ${count - settingsFailed}), polling the table every 50 ms`)
    let createsFailed = 0
    let sending = true
    const creates = atRate(rate, count, async i => {
      const r = await fetchStatus(`${ctx.apiUrl}/v1/reservations`, { method: 'POST', headers: json(tokens[i]!), body: JSON.stringify({ ...reservationBody(i), agencyId }) })
      if ('error' in r || r.status !== 202 || !r.body.id) { createsFailed++; return }
      const p: Pending = { userId: users[i]!, n: i, id: r.body.id, at: r.at }
      all.push(p); byId.set(p.id, p)
    }).finally(() => { sending = false })
    const grace = ctx.found.updaterApplies === false ? 3000 : secs(ctx, 10_000, 30_000)
    let lastSend = Infinity
    while (true) {
      const waiting = all.filter(p => p.readableAt === undefined)
      if (waiting.length) {
        const seen = await readable(ctx.db, ctx.table, waiting.map(p => ({ userId: p.userId, reservationId: p.id })))
        const now = Date.now()
        for (const p of waiting) if (seen.has(p.id)) p.readableAt = now
      }
      if (!sending && lastSend === Infinity) lastSend = performance.now()
      if ((!sending && all.every(p => p.readableAt !== undefined)) || performance.now() - lastSend > grace) break
      await Bun.sleep(50)
    }
    await creates

    // 2. Agency updates (a one-hour reschedule) at the same constant rate: 202 → notification.
    const targets = all.filter(p => p.readableAt !== undefined)
    ctx.progress(`freshness: ${rate} agency updates/s (${agencyId}, rescheduled) for ${targets.length} readable reservations; waiting for their notifications`)
    let updatesFailed = 0
    const updateCodes: Record<string, number> = {}
    sending = true
    const updates = atRate(rate, targets.length, async k => {
      const p = targets[k]!
      const day = String(1 + (p.n % 27)).padStart(2, '0')
      const raw = JSON.stringify({ reservationId: p.id, updateId: `freshness-${p.id}`, occurredAt: new Date().toISOString(), change: 'rescheduled', startsAt: `2031-03-${day}T09:00:00Z`, endsAt: `2031-03-${day}T17:30:00Z` })
      const path = `/v1/agencies/${agencyId}/updates`
      const r = await fetchStatus(`${ctx.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signRequest(agencySecret, { method: 'POST', path, body: raw }) }, body: raw })
      const code = 'error' in r ? r.error : String(r.status)
      updateCodes[code] = (updateCodes[code] ?? 0) + 1
      if ('error' in r || r.status !== 202) { updatesFailed++; return }
      p.updateAt = r.at
    }).finally(() => { sending = false })
    lastSend = Infinity
    let notifCursor = 0
    let lastNotifPoll = 0
    while (true) {
      // Fallback to the webhook: the in-app NOTIF# items of users still waiting after a second, 20 users every 250 ms.
      const waiting = targets.filter(p => p.updateAt !== undefined && p.notifiedAt === undefined && Date.now() - p.updateAt > 1000)
      if (waiting.length && Date.now() - lastNotifPoll > 250) {
        lastNotifPoll = Date.now()
        const batch = Array.from({ length: Math.min(20, waiting.length) }, (_, k) => waiting[(notifCursor + k) % waiting.length]!)
        notifCursor += batch.length
        await Promise.all(batch.map(async p => {
          const out = await ctx.db.send(new QueryCommand({ TableName: ctx.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)', ExpressionAttributeValues: { ':pk': userPk(p.userId), ':n': SK.notification }, ScanIndexForward: false, Limit: 5 }))
          const n = (out.Items ?? []).find(x => x.reservationId === p.id)
          // The item's createdAt is when the notifier made it: the delay it shows, not when this poll saw it.
          if (n && p.notifiedAt === undefined) p.notifiedAt = typeof n.createdAt === 'number' ? n.createdAt : Date.now()
        }))
      }
      if (!sending && lastSend === Infinity) lastSend = performance.now()
      if ((!sending && targets.every(p => p.updateAt === undefined || p.notifiedAt !== undefined)) || performance.now() - lastSend > grace) break
      await Bun.sleep(50)
    }
    await updates

    const delays = (label: string, of: Pending[], from: (p: Pending) => number | undefined, to: (p: Pending) => number | undefined): Delays => {
      const samples = of.flatMap(p => { const a = from(p); const b = to(p); return a === undefined || b === undefined ? [] : [Math.max(0, b - a)] })
      return { label, samples, missing: of.length - samples.length, summary: summarize(samples) }
    }
    const updated = targets.filter(p => p.updateAt !== undefined)
    const toRead = delays('create 202 → readable', all, p => p.at, p => p.readableAt)
    const toNotif = delays('agency update 202 → notification', updated, p => p.updateAt, p => p.notifiedAt)
    ctx.progress(`freshness: readable ${toRead.summary.count}/${all.length} (p99 ${fmtMs(toRead.summary.p99)}), notified ${toNotif.summary.count}/${updated.length} (p99 ${fmtMs(toNotif.summary.p99)})`)
    const metrics = {
      'writes/s': rate, 'accepted': all.length, 'refused or failed': createsFailed + settingsFailed,
      'readable p50 ms': toRead.summary.p50, 'readable p99 ms': toRead.summary.p99, 'readable max ms': toRead.summary.max,
      'agency updates accepted': updated.length, 'agency updates refused or failed': updatesFailed,
      'notified p50 ms': toNotif.summary.p50, 'notified p99 ms': toNotif.summary.p99, 'notified max ms': toNotif.summary.max,
      'webhook bad signatures': badSignatures
    }
    const out = { ...base, metrics, delays: [toRead, toNotif] }
    if (all.length === 0) return { ...out, status: 'error', note: `no create was accepted (${createsFailed} failed)` }
    if (toRead.summary.count === 0) return { ...out, status: 'error', note: `no accepted write became readable within ${grace / 1000} s of the last one: the updater is not applying commands` }
    const failures: string[] = []
    if (settingsFailed) failures.push(`${settingsFailed} PUT /v1/me/settings failed`)
    if (updatesFailed) failures.push(`${updatesFailed} of ${targets.length} agency updates not accepted (${Object.entries(updateCodes).map(([c, k]) => `${c}×${k}`).join(', ')})`)
    if (badSignatures) failures.push(`${badSignatures} webhook calls with a bad signature`)
    const v = budgetVerdict([{ route: 'create 202 → readable', p99: toRead.summary.p99, errorRate: toRead.missing / all.length }], ctx.budgetMs)
    const notifMissing = updated.length ? toNotif.missing / updated.length : 1
    const notifCheck = budgetVerdict([{ route: 'agency update 202 → notification', p99: NOTIFICATION_BUDGET_MS === undefined ? 0 : toNotif.summary.p99, errorRate: notifMissing }], NOTIFICATION_BUDGET_MS ?? 0)
    const notifNote = toNotif.summary.count === 0
      ? `no notification seen for ${updated.length} agency updates (webhook nor NOTIF# item)`
      : `agency update 202 → notification p50 ${fmtMs(toNotif.summary.p50)}, p99 ${fmtMs(toNotif.summary.p99)}, max ${fmtMs(toNotif.summary.max)}, ${toNotif.summary.count}/${updated.length} notified (${NOTIFICATION_BUDGET_MS === undefined ? 'gated on completeness, not on the 800 ms budget' : `budget ${NOTIFICATION_BUDGET_MS} ms`})`
    let status = v.status
    if (status === 'pass' && (notifCheck.status !== 'pass' || toNotif.summary.count === 0 || updated.length === 0 || failures.length)) status = 'fail'
    return { ...out, status, note: `${v.note}${toRead.missing ? ` (${toRead.missing} never readable)` : ''}; ${notifNote}${failures.length ? `; ${failures.join('; ')}` : ''}` }
  } finally {
    hook.stop(true)
  }
}
