import { describe, expect, test } from 'bun:test'
import { commandFactory, flight } from '../domain/test-fixtures.ts'
import { COMMAND_TYPES, CommandCheck, decodeCommand, encodeCommand, type Command } from './command.ts'

const { cmd } = commandFactory()
const TRIP = '01JTRP00000000000000000000'
const RES = '01JRES00000000000000000000'

const samples: Command[] = [
  cmd('reservation.create', { reservationId: RES, ...flight, tripId: TRIP }),
  cmd('reservation.update', { reservationId: RES, patch: { notes: null } }),
  cmd('reservation.remove', { reservationId: RES }),
  cmd('reservation.agency-update', { agencyId: 'acme', reservationId: RES, change: 'cancelled' }),
  cmd('trip.create', { tripId: TRIP, name: 'Montreal' }),
  cmd('trip.update', { tripId: TRIP, patch: { name: 'MTL' } }),
  cmd('trip.remove', { tripId: TRIP }),
  cmd('trip.share.put', { tripId: TRIP, granteeId: 'bob', role: 'full' }),
  cmd('trip.share.remove', { tripId: TRIP, granteeId: 'bob' }),
  cmd('trip.finish', { tripId: 'unassigned-alice' }),
  cmd('settings.put', { language: 'fr' }),
].map((c) => c.command)

describe('commands', () => {
  test('every type has a sample that round-trips', () => {
    expect(new Set(samples.map((s) => s.type))).toEqual(new Set(COMMAND_TYPES))
    for (const command of samples) {
      expect(CommandCheck.Check(command)).toBe(true)
      const encoded = encodeCommand(command)
      expect(decodeCommand(encoded)).toEqual({ ok: true, command })
      expect(decodeCommand(Buffer.from(encoded))).toEqual({ ok: true, command })
    }
  })

  test('reasons name the failing field of the right variant', () => {
    const bad = { ...samples[0]!, payload: { ...(samples[0]!.payload as object), title: 7 } }
    const d = decodeCommand(JSON.stringify(bad))
    expect(d).toEqual({ ok: false, reason: expect.stringContaining('/payload/title') })
    expect(decodeCommand(JSON.stringify({ ...samples[0], type: 'reservation.explode' }))).toEqual({ ok: false, reason: '/type: unknown command type' })
    expect(decodeCommand(JSON.stringify({ ...samples[0], v: 2 })).ok).toBe(false)
    expect(decodeCommand(JSON.stringify({ ...samples[0], extra: true })).ok).toBe(false)
    expect(decodeCommand(JSON.stringify({ ...samples[2], type: 'trip.remove' })).ok).toBe(false)
  })

  test('trip.create cannot create an Unassigned trip', () => {
    const c = { ...samples[4]!, payload: { tripId: 'unassigned-alice', name: 'x' } }
    expect(decodeCommand(JSON.stringify(c)).ok).toBe(false)
  })

  test('encodeCommand throws on an invalid command', () => {
    expect(() => encodeCommand({ ...samples[2]!, userId: 'a#b' } as Command)).toThrow('invalid')
  })
})

describe('decodeCommand on poison input never throws', () => {
  const poison: (string | Uint8Array)[] = [
    '',
    'null',
    'true',
    '"reservation.create"',
    '[]',
    '[{"type":"reservation.create"}]',
    '{}',
    '{"type":"toString"}',
    '{"type":"__proto__"}',
    '{"type":"constructor"}',
    '{"type":null}',
    '{"__proto__":{"type":"reservation.remove"}}',
    '{"type":"reservation.remove","payload":null}',
    '1e999',
    '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}',
    new Uint8Array([0xc3, 0x28]),
    new Uint8Array(0),
    new Uint8Array(300 * 1024),
  ]
  test('known poison', () => {
    for (const input of poison) {
      const d = decodeCommand(input)
      expect(d.ok).toBe(false)
      if (!d.ok) expect(typeof d.reason).toBe('string')
    }
  })
  test('random bytes and mutated valid messages', () => {
    let seed = 7
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
    const valid = encodeCommand(samples[0]!)
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(Math.floor(rand() * 64)).map(() => Math.floor(rand() * 256))
      expect(() => decodeCommand(bytes)).not.toThrow()
      const chars = [...valid]
      for (let k = 0; k < 3; k++) chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128))
      const d = decodeCommand(chars.join(''))
      if (d.ok) expect(CommandCheck.Check(d.command)).toBe(true)
    }
  })
  test('non-string non-bytes input from an untyped caller', () => {
    for (const input of [undefined, null, 42, {}, []]) expect(decodeCommand(input as unknown as string).ok).toBe(false)
  })
})
