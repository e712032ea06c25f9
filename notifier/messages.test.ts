import { expect, test } from 'bun:test'
import { sampleEvent } from '../shared/domain/test-fixtures.ts'
import { MESSAGES, renderMessage, validateMessages } from './messages.ts'

test('English in UTC by default, with the zone named', () => {
  expect(renderMessage({ ...sampleEvent, change: 'cancelled' })).toBe('AF 123 on Fri, 1 Feb 2030, 09:00 UTC was cancelled')
})

test('French, in the user’s time zone, with the previous time of a reschedule', () => {
  const text = renderMessage(sampleEvent, { language: 'fr', timeZone: 'Europe/Paris' })
  expect(text).toBe("AF 123 a changé d'horaire : désormais du ven. 1 févr. 2030, 10:00 UTC+1 au ven. 1 févr. 2030, 18:00 UTC+1 (au lieu du ven. 1 févr. 2030, 09:00 UTC+1)")
})

test('a time zone moves the times; an unknown zone or language falls back', () => {
  expect(renderMessage({ ...sampleEvent, change: 'cancelled' }, { timeZone: 'America/Montreal' })).toContain('04:00')
  expect(renderMessage({ ...sampleEvent, change: 'cancelled' }, { timeZone: 'Mars/Olympus', language: 'de' })).toBe(renderMessage({ ...sampleEvent, change: 'cancelled' }))
})

test('long titles keep the message within 500 characters', () => {
  const long = renderMessage({ ...sampleEvent, current: { ...sampleEvent.current, title: 'x'.repeat(200) } })
  expect(long.length).toBeLessThanOrEqual(500)
})

test('resource files: every change, known placeholders only', () => {
  expect(Object.keys(MESSAGES).sort()).toEqual(['en', 'fr'])
  const { rejections } = MESSAGES.en!
  expect(() => validateMessages('bad', { locale: 'en', changes: { ...MESSAGES.en!.changes, cancelled: '{nope}' }, rejections })).toThrow('unknown placeholder {nope}')
  const { cancelled: _, ...missing } = MESSAGES.en!.changes
  expect(() => validateMessages('bad', { locale: 'en', changes: missing, rejections })).toThrow('bad.json')
  // A sentence per limit code, with {limit} as its only placeholder.
  expect(() => validateMessages('bad', { locale: 'en', changes: MESSAGES.en!.changes, rejections: { ...rejections, limit_trips: 'over {title}' } })).toThrow('limit_trips uses unknown placeholder {title}')
  const { limit_trips: __, ...fewer } = rejections
  expect(() => validateMessages('bad', { locale: 'en', changes: MESSAGES.en!.changes, rejections: fewer })).toThrow('bad.json')
})

test('a refused command: the user reads which limit, and its value, in their language', () => {
  const rejected = { ...sampleEvent, change: 'rejected' as const, previous: undefined, rejection: { code: 'limit_trip_reservations' as const, reason: 'trip holds 500 live reservations' } }
  expect(renderMessage(rejected)).toBe('AF 123 (Fri, 1 Feb 2030, 09:00 UTC) was not saved: the trip already holds 500 reservations, the most one trip may hold')
  expect(renderMessage({ ...rejected, rejection: { code: 'limit_active_reservations', reason: '' } }, { language: 'fr', timeZone: 'Europe/Paris' }))
    .toBe("AF 123 (ven. 1 févr. 2030, 10:00 UTC+1) n'a pas été enregistré : vous avez déjà 2000 réservations actives, le maximum autorisé")
})
