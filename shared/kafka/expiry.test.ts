import { expect, test } from 'bun:test'
import { ackOutcome, judgeRecord, notAfterFor, parseNotAfter } from './expiry.ts'

test('the deadline header is the send time plus the deadline minus the skew allowance (and 1 ms)', () => {
  expect(notAfterFor(1_000_000, 2000, 100)).toBe(1_001_899)
  expect(notAfterFor(1_000_000, 2000, 0)).toBe(1_001_999)
})

test('whatever a broker within the skew allowance appends after the local deadline is past the header', () => {
  // Hand-worked: sent at 10_000 (API clock), deadline 2000, allowance 100: the API gives up at
  // 12_000 on its clock; a broker clock up to 100 ms behind stamps a later append > 11_900.
  const notAfter = notAfterFor(10_000, 2000, 100)
  for (const brokerBehind of [100, 50, 0, -100]) {
    const appendTime = 12_000 + 1 - brokerBehind // 1 ms after the API gave up
    expect(judgeRecord(notAfter, appendTime).verdict).toBe('expired')
    expect(ackOutcome(notAfter, appendTime)).toBe('expired')
  }
  // Appended within deadline − allowance: applied, and the API says so.
  expect(judgeRecord(notAfter, 11_899).verdict).toBe('apply')
  expect(ackOutcome(notAfter, 11_899)).toBe('accepted')
})

test('the updater rule: boundary, no header, no append time, malformed header', () => {
  expect(judgeRecord(5000, 5000)).toEqual({ verdict: 'apply' })
  const late = judgeRecord(5000, 5001)
  expect(late.verdict).toBe('expired')
  expect(late.verdict === 'expired' && late.reason).toContain('1 ms after its deadline 5000')
  // No header: no deadline (finisher, seeders, tests producing straight to the topic).
  expect(judgeRecord(undefined, 9_999_999)).toEqual({ verdict: 'apply' })
  expect(judgeRecord(undefined, undefined)).toEqual({ verdict: 'apply' })
  // A CreateTime batch carries the producer's clock: cannot be judged.
  expect(judgeRecord(5000, undefined)).toEqual({ verdict: 'unchecked' })
  expect(judgeRecord(Number.NaN, 1).verdict).toBe('expired')
})

test('the producer decision agrees with the updater rule on every ack that has an append time', () => {
  for (const [notAfter, appendTime] of [[100, 99], [100, 100], [100, 101], [0, 0], [1_800_000_000_000, 1_800_000_000_001]] as const) {
    const applied = judgeRecord(notAfter, appendTime).verdict === 'apply'
    expect(ackOutcome(notAfter, appendTime) === 'accepted').toBe(applied)
  }
  // No append time in the ack (CreateTime topic): accepted, as the updater applies it.
  expect(ackOutcome(100, undefined)).toBe('accepted')
})

test('header values: digits only, anything else is malformed', () => {
  expect(parseNotAfter(undefined)).toBeUndefined()
  expect(parseNotAfter('1764867000000')).toBe(1_764_867_000_000)
  for (const bad of ['', '-1', '1e12', ' 12', '12.5', '0x10', '12345678901234567']) expect(parseNotAfter(bad)).toBeNaN()
})
