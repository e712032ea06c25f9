import { describe, expect, test } from 'bun:test'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { checkTimes, IsoDateTime, normalizeInstant, parseInstant } from './times.ts'

const iso = TypeCompiler.Compile(IsoDateTime)

describe('IsoDateTime', () => {
  test('accepts zoned date-times with optional seconds and fraction', () => {
    for (const v of ['2030-01-01T10:00Z', '2030-01-01T10:00:05Z', '2030-01-01T10:00:05.123456789+02:00', '2030-01-01T10:00-05:30'])
      expect(iso.Check(v)).toBe(true)
  })
  test('refuses dates, local times and junk', () => {
    for (const v of ['2030-01-01', '2030-01-01T10:00', '2030-01-01 10:00Z', 'tomorrow', '', '2030-01-01T10:00:00.1234567890Z'])
      expect(iso.Check(v)).toBe(false)
  })
})

describe('parseInstant', () => {
  test('applies the offset', () => {
    expect(parseInstant('2030-01-01T10:00+02:00')).toBe(Date.UTC(2030, 0, 1, 8))
    expect(parseInstant('2030-01-01T10:00-01:30')).toBe(Date.UTC(2030, 0, 1, 11, 30))
  })
  test('refuses impossible calendar values Date.parse would accept', () => {
    for (const v of ['2030-02-30T00:00Z', '2030-02-29T10:00Z', '2030-13-01T00:00Z', '2030-01-01T24:00Z', '2030-01-01T10:60Z', '0050-01-01T00:00Z', '2030-01-01T00:00+24:00'])
      expect(parseInstant(v)).toBeUndefined()
    expect(parseInstant('2032-02-29T10:00Z')).toBe(Date.UTC(2032, 1, 29, 10))
  })
  test('refuses non-strings', () => {
    expect(parseInstant(42)).toBeUndefined()
    expect(parseInstant(null)).toBeUndefined()
  })
})

test('normalizeInstant gives sortable UTC with milliseconds', () => {
  expect(normalizeInstant('2030-01-01T10:00+02:00')).toBe('2030-01-01T08:00:00.000Z')
  expect(normalizeInstant('2030-01-01T10:00:00.5Z')).toBe('2030-01-01T10:00:00.500Z')
  expect(normalizeInstant('nope')).toBeUndefined()
})

describe('checkTimes', () => {
  test('passes ordered and equal times', () => {
    expect(checkTimes('2030-01-01T10:00Z', '2030-01-01T12:00Z')).toBeUndefined()
    expect(checkTimes('2030-01-01T10:00Z', '2030-01-01T11:00+01:00')).toBeUndefined()
  })
  test('names the field at fault', () => {
    expect(checkTimes('bad', '2030-01-01T10:00Z')).toMatchObject({ field: 'startsAt', code: 'invalid_time' })
    expect(checkTimes('2030-01-01T10:00Z', '2030-02-30T10:00Z')).toMatchObject({ field: 'endsAt', code: 'invalid_time' })
    // 10:00+01:00 is 09:00Z: before the start even though it reads later
    expect(checkTimes('2030-01-01T09:30Z', '2030-01-01T10:00+01:00')).toMatchObject({ field: 'endsAt', code: 'ends_before_start' })
  })
})
