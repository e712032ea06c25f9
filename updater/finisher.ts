import { GSI, endDaysBetween, parseEndDayGsiSk } from '../shared/domain/keys.ts'
import type { Logger } from '../shared/log/logger.ts'
import { encodeCommand, type Command } from '../shared/schemas/command.ts'

/**
 * The ended-trips task. Every `intervalMs` it reads the byEndDay index for the last
 * `lookbackDays` UTC days (one Query per day, sort key bounded by now: no scan), and for each
 * trip of a user this updater owns whose end has passed, produces a `trip.finish` command keyed
 * by the owner into the command topic. The fold marks the trip's ended reservations finished;
 * a trip whose members all ended then leaves the index. So the updater of that partition stays
 * the only writer, and a trip finished twice (a tick before the command was applied) is harmless.
 * A trip is not sent again for `resendAfterMs`.
 */
export interface FinisherDeps {
  queryIndex: (index: { name: string, pk: string, sk?: string }, pkValue: string, skAtMost?: string) => Promise<Array<Record<string, unknown>>>
  send: (topic: string, key: string, value: string) => Promise<unknown>
  /** True if this updater owns the user's partition and holds its lease now. */
  owns: (userId: string) => boolean
  newId: () => string
  now: () => number
  log: Logger
  onSent?: () => void
}

export interface FinisherOptions {
  commandTopic: string
  lookbackDays: number
  resendAfterMs: number
}

/** Trips found ended and owned; pure given the index rows. */
export function endedTrips (rows: ReadonlyArray<Record<string, unknown>>, nowIso: string): Array<{ userId: string, tripId: string, endsAt: string }> {
  const out: Array<{ userId: string, tripId: string, endsAt: string }> = []
  for (const row of rows) {
    if (row.entity !== 'trip' || row.deleted || row.status !== 'active') continue
    const parsed = parseEndDayGsiSk(String(row.gsi4sk ?? ''))
    if (!parsed || parsed.endsAt > nowIso) continue
    out.push(parsed)
  }
  return out
}

export class Finisher {
  private readonly sent = new Map<string, number>()
  constructor (private readonly o: FinisherOptions, private readonly d: FinisherDeps) {}

  /** One pass; returns the number of commands produced. */
  async tick (): Promise<number> {
    const now = this.d.now()
    const nowIso = new Date(now).toISOString()
    for (const [k, at] of this.sent) if (now - at > this.o.resendAfterMs) this.sent.delete(k)
    let produced = 0
    const days = endDaysBetween(now - (this.o.lookbackDays - 1) * 86_400_000, now)
    for (const day of days) {
      const rows = await this.d.queryIndex(GSI.byEndDay, day, `${nowIso}#~`)
      const sends: Array<Promise<unknown>> = []
      for (const t of endedTrips(rows, nowIso)) {
        const k = `${t.userId}/${t.tripId}`
        if (this.sent.has(k) || !this.d.owns(t.userId)) continue
        const command: Command = { v: 1, id: this.d.newId(), type: 'trip.finish', userId: t.userId, actorId: 'system:finisher', acceptedAt: now, payload: { tripId: t.tripId } }
        sends.push(this.d.send(this.o.commandTopic, t.userId, encodeCommand(command)).then(() => { this.sent.set(k, now); produced++; this.d.onSent?.() }))
      }
      await Promise.all(sends)
    }
    if (produced) this.d.log.info('updater_finisher_sent', { commands: produced, days: days.length })
    return produced
  }
}
