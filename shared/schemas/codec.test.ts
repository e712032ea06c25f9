import { expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { decodeWith, encodeWith, MAX_MESSAGE_BYTES, MessageSchemaError, parseJson } from './codec.ts'

const check = TypeCompiler.Compile(Type.Object({ a: Type.Integer() }, { additionalProperties: false }))

test('parseJson takes strings and bytes, refuses the rest without throwing', () => {
  expect(parseJson('{"a":1}')).toEqual({ ok: true, value: { a: 1 } })
  expect(parseJson(new TextEncoder().encode('{"a":1}'))).toEqual({ ok: true, value: { a: 1 } })
  expect(parseJson(Buffer.from('[1]'))).toEqual({ ok: true, value: [1] })
  expect(parseJson(new Uint8Array([0xff, 0xfe, 0x00])).ok).toBe(false)
  expect(parseJson('{').ok).toBe(false)
  expect(parseJson(undefined).ok).toBe(false)
  expect(parseJson(null).ok).toBe(false)
  expect(parseJson('x'.repeat(MAX_MESSAGE_BYTES + 1))).toEqual({ ok: false, reason: 'message too large' })
})

test('decodeWith reports the first failing path', () => {
  expect(decodeWith(check, '{"a":1}')).toEqual({ ok: true, value: { a: 1 } })
  const bad = decodeWith(check, '{"a":"1"}')
  expect(bad.ok).toBe(false)
  if (!bad.ok) expect(bad.reason).toStartWith('/a:')
  expect(decodeWith(check, '{"a":1,"__proto__":{"x":1}}').ok).toBe(false)
})

test('encodeWith refuses what the decoder would refuse', () => {
  expect(encodeWith('t', check, { a: 1 })).toBe('{"a":1}')
  expect(() => encodeWith('t', check, { a: 1.5 })).toThrow(MessageSchemaError)
})
