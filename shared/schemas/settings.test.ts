import { expect, test } from 'bun:test'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { isTimeZone, SettingsPutBody } from './settings.ts'

test('settings body', () => {
  const put = TypeCompiler.Compile(SettingsPutBody)
  expect(put.Check({})).toBe(true)
  expect(put.Check({ webhook: { url: 'https://example.com/hook', secret: 's'.repeat(16) }, language: 'fr', timeZone: 'Europe/Paris' })).toBe(true)
  expect(put.Check({ webhook: { url: 'ftp://example.com', secret: 's'.repeat(16) } })).toBe(false)
  expect(put.Check({ webhook: { url: 'https://example.com/hook', secret: 'short' } })).toBe(false)
  expect(put.Check({ language: 'xx' })).toBe(false)
  expect(put.Check({ timeZone: '../etc' })).toBe(false)
})

test('isTimeZone knows real zones only', () => {
  expect(isTimeZone('Europe/Paris')).toBe(true)
  expect(isTimeZone('UTC')).toBe(true)
  expect(isTimeZone('Mars/Olympus')).toBe(false)
})
