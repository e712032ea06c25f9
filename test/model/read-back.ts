/**
 * The table the real updater wrote, read back the way the API reads it: items filtered as the
 * store filters them (tombstones and removed reservations left out), shaped by the API's own
 * projections (shared/domain/projection.ts), trips' reservations found through the byTrip index
 * attributes, shared trips through byGrantee. The result has the model's UserViews shape.
 */
import type { ReservationItem, SettingsItem, ShareItem, TripItem } from '../../shared/domain/items.ts'
import { userPk } from '../../shared/domain/keys.ts'
import { projectForRole, projectTripForRole } from '../../shared/domain/projection.ts'
import type { UserViews } from './model.ts'

type Row = Record<string, unknown>

export function tableViews (table: ReadonlyMap<string, Row>, userIds: readonly string[]): Map<string, UserViews> {
  const rows = [...table.values()]
  const out = new Map<string, UserViews>()
  for (const userId of userIds) {
    const pk = userPk(userId)
    const mine = rows.filter(i => i.pk === pk)
    const v: UserViews = { reservations: {}, trips: {}, sharedWithMe: {}, findable: [], liveRows: [], endDays: [] }
    for (const i of mine) {
      if (typeof i.gsi2pk === 'string') v.findable.push(i.gsi2pk.slice(2))
      if (typeof i.lsi1sk === 'string') v.liveRows.push(i.lsi1sk)
      if (typeof i.gsi4pk === 'string') v.endDays.push(`${i.gsi4pk} ${String(i.id)}`)
      if (i.entity === 'reservation') {
        const r = i as unknown as ReservationItem
        if (!r.deleted && r.status !== 'removed') v.reservations[r.id] = projectForRole(r, 'owner')
      } else if (i.entity === 'trip') {
        const t = i as unknown as TripItem
        if (t.deleted || t.status === 'removed') continue
        // byTrip: the trip's reservations by `gsi3sk` (start time, then id), live ones only.
        const reservationIds = rows
          .filter(x => x.entity === 'reservation' && x.gsi3pk === `T#${t.id}` && !x.deleted && x.status !== 'removed')
          .sort((a, b) => (String(a.gsi3sk) < String(b.gsi3sk) ? -1 : 1))
          .map(x => String(x.id))
        v.trips[t.id] = { trip: projectTripForRole(t, 'owner'), reservationIds }
      } else if (i.entity === 'settings') {
        const s = i as unknown as SettingsItem
        v.settings = Object.fromEntries(Object.entries({ webhook: s.webhook, language: s.language, timeZone: s.timeZone }).filter(([, x]) => x !== undefined))
      }
    }
    // byGrantee: share items of any owner naming this user.
    for (const i of rows) {
      if (i.entity !== 'share' || i.deleted || i.gsi1pk !== `G#${userId}`) continue
      const s = i as unknown as ShareItem
      v.sharedWithMe[`${s.ownerId}/${s.tripId}`] = { role: s.role, tripName: s.tripName }
    }
    v.findable.sort(); v.liveRows.sort(); v.endDays.sort()
    out.set(userId, v)
  }
  return out
}
