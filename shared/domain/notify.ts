import type { Notification } from '../schemas/notification.ts'
import type { Language } from '../schemas/settings.ts'
import type { StatusChange, StatusEvent } from '../schemas/status-event.ts'
import type { NotifiedItem } from './items.ts'

/**
 * Pure helpers for the notifier: dedupe against the `NOTIFIED#` record and
 * turn a status event into a notification.
 */

/**
 * True if the event is news for the user: no record yet, or a seq above
 * the last one notified. Seqs grow per reservation (one partition per user),
 * so redelivered or replayed events are recognised by seq alone.
 */
export function isNewForUser(record: Pick<NotifiedItem, 'lastSeq'> | undefined, event: Pick<StatusEvent, 'seq'>): boolean {
  return record === undefined || event.seq > record.lastSeq
}

const MESSAGES: Record<'en' | 'fr', Record<StatusChange, (title: string) => string>> = {
  en: {
    created: (t) => `${t} was added`,
    cancelled: (t) => `${t} was cancelled`,
    rescheduled: (t) => `${t} was rescheduled`,
    updated: (t) => `${t} was updated`,
    removed: (t) => `${t} was removed`,
    finished: (t) => `${t} is over`,
    reinstated: (t) => `${t} is back on`,
  },
  fr: {
    created: (t) => `${t} a été ajouté`,
    cancelled: (t) => `${t} a été annulé`,
    rescheduled: (t) => `${t} a changé d'horaire`,
    updated: (t) => `${t} a été modifié`,
    removed: (t) => `${t} a été supprimé`,
    finished: (t) => `${t} est terminé`,
    reinstated: (t) => `${t} est rétabli`,
  },
}

/** Languages without templates yet fall back to English. */
export function describeChange(change: StatusChange, title: string, language: Language = 'en'): string {
  const templates = language === 'fr' ? MESSAGES.fr : MESSAGES.en
  return templates[change](title).slice(0, 500)
}

export function notificationFromEvent(event: StatusEvent, options: { id: string; createdAt: number; language?: Language }): Notification {
  const data: Notification['data'] = {
    tripId: event.tripId,
    seq: event.seq,
    status: event.status,
    title: event.current.title,
    startsAt: event.current.startsAt,
    endsAt: event.current.endsAt,
  }
  if (event.previous) {
    data.previousStartsAt = event.previous.startsAt
    data.previousEndsAt = event.previous.endsAt
  }
  return {
    id: options.id,
    userId: event.userId,
    reservationId: event.reservationId,
    kind: event.change,
    message: describeChange(event.change, event.current.title, options.language),
    createdAt: options.createdAt,
    data,
  }
}
