import { type AgencyUpdateBody, checkAgencyUpdate } from '../../shared/schemas/reservation.ts'
import { checkTimes, parseInstant } from '../../shared/schemas/times.ts'
import { type Commands } from '../commands.ts'
import { invalidField, notFound } from '../errors.ts'
import { timeError } from '../reservations/service.ts'
import { type Store } from '../store.ts'
import { type AcceptedUpdate, type AgencyDedupe } from './dedupe.ts'

export interface AgencyServiceOptions {
  /** An occurredAt later than now plus this (ms) is refused: it would order every real update after it out. */
  maxFutureMs: number
}

export class AgencyService {
  constructor (private readonly store: Store, private readonly commands: Commands, private readonly dedupe: AgencyDedupe,
    private readonly o: AgencyServiceOptions) {}

  /**
   * An agency's change to a reservation booked through it: the owner is found via byReservation,
   * the command is keyed by that owner. A reservation that does not exist, is removed, or was not
   * booked through this agency (its agencyId differs) is 404 alike, so agencies learn nothing of others'.
   * Deduplicated by (agencyId, updateId) (dedupe.ts); ordered by occurredAt in the fold.
   */
  async update ({ agencyId, body }: { agencyId: string, body: AgencyUpdateBody }): Promise<AcceptedUpdate> {
    const rule = checkAgencyUpdate(body)
    if (rule) throw invalidField(`body.${rule.field}`, rule.code, rule.message)
    if (parseInstant(body.occurredAt)! > Date.now() + this.o.maxFutureMs) {
      throw invalidField('body.occurredAt', 'occurred_in_future', 'occurredAt is in the future (beyond the accepted clock skew)')
    }
    const r = await this.store.reservationById(body.reservationId)
    if (!r || r.agencyId !== agencyId) throw notFound('reservation')
    if (body.startsAt !== undefined || body.endsAt !== undefined) {
      const bad = checkTimes(body.startsAt ?? r.startsAt, body.endsAt ?? r.endsAt)
      if (bad) throw timeError(bad, body)
    }
    const command = this.commands.build('reservation.agency-update', r.ownerId, `agency:${agencyId}`, { agencyId, ...body })
    return await this.dedupe.accept({ agencyId, updateId: body.updateId, body, reservationId: r.id, command })
  }
}
