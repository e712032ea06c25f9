import { type AgencyUpdateBody, checkAgencyUpdate } from '../../shared/schemas/reservation.ts'
import { checkTimes } from '../../shared/schemas/times.ts'
import { type Commands } from '../commands.ts'
import { invalidField, notFound } from '../errors.ts'
import { timeError } from '../reservations/service.ts'
import { type Store } from '../store.ts'

export class AgencyService {
  constructor (private readonly store: Store, private readonly commands: Commands) {}

  /**
   * An agency's change to a reservation booked through it: the owner is found via byReservation,
   * the command is keyed by that owner. A reservation that does not exist, is removed, or was not
   * booked through this agency (its agencyId differs) is 404 alike, so agencies learn nothing of others'.
   */
  async update ({ agencyId, body }: { agencyId: string, body: AgencyUpdateBody }): Promise<{ reservationId: string }> {
    const rule = checkAgencyUpdate(body)
    if (rule) throw invalidField(`body.${rule.field}`, rule.code, rule.message)
    const r = await this.store.reservationById(body.reservationId)
    if (!r || r.agencyId !== agencyId) throw notFound('reservation')
    if (body.startsAt !== undefined || body.endsAt !== undefined) {
      const bad = checkTimes(body.startsAt ?? r.startsAt, body.endsAt ?? r.endsAt)
      if (bad) throw timeError(bad, body)
    }
    await this.commands.send(this.commands.build('reservation.agency-update', r.ownerId, `agency:${agencyId}`, { agencyId, ...body }))
    return { reservationId: r.id }
  }
}
