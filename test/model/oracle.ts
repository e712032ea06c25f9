/**
 * The comparison of a production run with the model: equal views for every reader, the same
 * refusal code at the same offsets, and status events consistent with the model's changes.
 * Returns a list of differences (empty when they agree), each naming what differs.
 */
import type { Command } from '../../shared/schemas/command.ts'
import type { StatusEvent } from '../../shared/schemas/status-event.ts'
import { READERS } from './commands.ts'
import { DomainModel, modelViews, type MChange, type Notified } from './model.ts'
import { tableViews } from './read-back.ts'
import { BASE_OFFSET, type RunResult } from './updater-run.ts'

export function runModel (commands: readonly Command[]): DomainModel {
  const m = new DomainModel()
  commands.forEach((c, n) => m.apply(BASE_OFFSET + n, c))
  return m
}

/** JSON with object keys sorted: views are compared as values, not by the order items were written in. */
const j = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) =>
  v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v)
const current = (e: StatusEvent): Notified => e.current as Notified

/**
 * `exactEvents`: every batch held one command and nothing crashed, so each event is one
 * command's change and the events must be exactly the model's changes.
 */
/**
 * Known limit of the fold (reported, issue 18): a command refused for the state of its item (bad
 * times against its stored start, wrong agency, removed), whose item a later command of the same
 * batch changed, is skipped as a replay when a crash wrote that later change: its dead letter is
 * lost (the table stays right). True when the refused command's item was changed after `offset`.
 */
function changedLater (m: DomainModel, commands: readonly Command[], offset: number): boolean {
  const refused = commands[offset - BASE_OFFSET]!
  if (refused.type === 'reservation.create' || refused.type === 'trip.create') return false
  const p = refused.payload as { reservationId?: string, tripId?: string }
  const key = p.reservationId !== undefined ? `R:${p.reservationId}` : `T:${String(p.tripId)}`
  return (m.touched.get(key) ?? []).some(at => at > offset)
}

export function differences (m: DomainModel, run: RunResult, opts: { exactEvents?: boolean, lostRefusals?: boolean, commands?: readonly Command[] } = {}): string[] {
  const commands = opts.commands ?? []
  const out: string[] = []
  const want = modelViews(m, READERS)
  const got = tableViews(run.table, READERS)
  for (const userId of READERS) {
    const w = want.get(userId)!
    const g = got.get(userId)!
    for (const key of Object.keys(w) as Array<keyof typeof w>) {
      if (j(w[key]) !== j(g[key])) out.push(`${userId} ${key}: model ${j(w[key])}\n   table ${j(g[key])}`)
    }
  }

  // Refusals: the same code at the same offsets (a replay may dead-letter the same one again).
  const refused = new Map<number, string>()
  for (const [offset, o] of m.outcomes) if (o.kind === 'refused') refused.set(offset, o.code)
  const letters = new Map<number, Set<string>>()
  for (const d of run.deadLetters) letters.set(d.offset, (letters.get(d.offset) ?? new Set()).add(d.code))
  for (const [offset, code] of refused) {
    const codes = [...(letters.get(offset) ?? [])]
    if (codes.length === 0 && opts.lostRefusals && changedLater(m, commands, offset)) continue
    if (codes.length !== 1 || codes[0] !== code) out.push(`offset ${offset}: model refuses ${code}, updater dead-lettered ${j(codes)}`)
  }
  for (const [offset, codes] of letters) if (!refused.has(offset)) out.push(`offset ${offset}: model applies it (${j(m.outcomes.get(offset))}), updater dead-lettered ${j([...codes])}`)

  // Events: one content per (reservation, seq) however often replays emit it.
  const bySeq = new Map<string, StatusEvent>()
  for (const e of run.events) {
    const k = `${e.reservationId}@${e.seq}/${e.change === 'rejected' ? 'rejected' : 'net'}`
    const seen = bySeq.get(k)
    if (seen && j(seen) !== j(e)) out.push(`event ${k} emitted twice with different content:\n   ${j(seen)}\n   ${j(e)}`)
    bySeq.set(k, e)
  }
  const changesOf = new Map<string, MChange[]>()
  for (const c of m.changes) changesOf.set(c.reservationId, [...(changesOf.get(c.reservationId) ?? []), c])
  const eventsOf = new Map<string, StatusEvent[]>()
  for (const e of bySeq.values()) eventsOf.set(e.reservationId, [...(eventsOf.get(e.reservationId) ?? []), e])
  for (const [id, list] of eventsOf) {
    list.sort((a, b) => a.seq - b.seq)
    const changes = changesOf.get(id) ?? []
    for (const e of list) {
      if (e.change === 'rejected') { out.push(`${id}: a rejected event at ${e.seq} (the runs stay below every limit)`); continue }
      // The event's seq is the last command of its batch that changed what a user is told, and
      // `current` the reservation as that command left it.
      const c = changes.find(x => x.offset === e.seq)
      if (!c) { out.push(`${id}: event ${e.change}@${e.seq} but the model changed nothing there (changes at ${j(changes.map(x => `${x.change}@${x.offset}`))})`); continue }
      if (j(c.current) !== j(current(e))) out.push(`${id}: event ${e.change}@${e.seq} says ${j(current(e))}, the model ${j(c.current)}`)
      if (e.status !== c.current.status) out.push(`${id}: event status ${e.status}, model ${c.current.status}`)
    }
  }
  for (const [id, changes] of changesOf) {
    const list = eventsOf.get(id) ?? []
    const last = list.at(-1)
    const final = changes.at(-1)!.current
    // The user ends up told the final state (nothing at all for a reservation created and removed in one batch).
    if (!last) { if (final.status !== 'removed') out.push(`${id}: the model changed it (${j(changes.map(x => x.change))}) but no event was emitted`); continue }
    if (j(current(last)) !== j(final)) out.push(`${id}: last event ${last.change}@${last.seq} says ${j(current(last))}, the model ends at ${j(final)}`)
  }
  if (opts.exactEvents) {
    const modelList = m.changes.map(c => `${c.reservationId} ${c.change}@${c.offset}`).sort()
    const eventList = [...bySeq.values()].map(e => `${e.reservationId} ${e.change}@${e.seq}`).sort()
    if (j(modelList) !== j(eventList)) out.push(`events one command at a time:\n   model ${j(modelList)}\n   table ${j(eventList)}`)
  }
  return out
}
