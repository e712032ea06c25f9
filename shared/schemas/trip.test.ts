import { expect, test } from 'bun:test'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { SharePutBody, TripCreateBody, TripPatchBody } from './trip.ts'

test('trip bodies', () => {
  const create = TypeCompiler.Compile(TripCreateBody)
  expect(create.Check({ name: 'Montreal' })).toBe(true)
  expect(create.Check({ name: '' })).toBe(false)
  expect(create.Check({ name: 'a', owner: 'x' })).toBe(false)
  const patch = TypeCompiler.Compile(TripPatchBody)
  expect(patch.Check({})).toBe(false)
  expect(patch.Check({ notes: null })).toBe(true)
  const share = TypeCompiler.Compile(SharePutBody)
  expect(share.Check({ role: 'full' })).toBe(true)
  expect(share.Check({ role: 'dates-and-places' })).toBe(true)
  expect(share.Check({ role: 'owner' })).toBe(false)
})
