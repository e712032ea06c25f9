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
  expect(() => validateMessages('bad', { locale: 'en', changes: { ...MESSAGES.en!.changes, cancelled: '{nope}' } })).toThrow('unknown placeholder {nope}')
  const { cancelled: _, ...missing } = MESSAGES.en!.changes
  expect(() => validateMessages('bad', { locale: 'en', changes: missing })).toThrow('bad.json')
})
