import { expect, test } from 'bun:test'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { newId } from '../domain/ids.ts'
import { ActorId, Id, TripId, UserId } from './ids.ts'

test('Id accepts generated ids and refuses others', () => {
  const id = TypeCompiler.Compile(Id)
  expect(id.Check(newId())).toBe(true)
  for (const bad of ['', 'abc', '01ARZ3NDEKTSV4RRFFQ69G5FAI', '01arz3ndektsv4rrffq69g5fav', '01ARZ3NDEKTSV4RRFFQ69G5FAV#', 'x'.repeat(26)]) expect(id.Check(bad)).toBe(false)
})

test('TripId accepts ids and Unassigned trip ids only', () => {
  const trip = TypeCompiler.Compile(TripId)
  expect(trip.Check(newId())).toBe(true)
  expect(trip.Check('unassigned-alice_01')).toBe(true)
  expect(trip.Check('unassigned-')).toBe(false)
  expect(trip.Check('unassigned-a#b')).toBe(false)
  expect(trip.Check('other-alice')).toBe(false)
})

test('UserId and ActorId are bounded and #-free', () => {
  const user = TypeCompiler.Compile(UserId)
  expect(user.Check('alice-01_X')).toBe(true)
  for (const bad of ['', 'a#b', 'a b', 'x'.repeat(65)]) expect(user.Check(bad)).toBe(false)
  const actor = TypeCompiler.Compile(ActorId)
  expect(actor.Check('agency:acme')).toBe(true)
  expect(actor.Check('system:trip-finisher')).toBe(true)
  expect(actor.Check('a#b')).toBe(false)
})
