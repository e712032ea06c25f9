import { expect, test } from 'bun:test'
import { ConfigError, loadEnv } from '../shared/config/env.ts'
import { ApiSettings, checkApiSettings } from './config.ts'

const base = { KAFKA_BROKERS: '127.0.0.1:9092', AGENCY_SECRETS: '{"demo":"0123456789abcdef"}', JWT_SECRET: 'x'.repeat(32) }

test('PRODUCE_CLOCK_SKEW_MS must stay below PRODUCE_DEADLINE_MS (the command deadline is their difference)', () => {
  const check = (env: Record<string, string>) => () => checkApiSettings(loadEnv(ApiSettings, { ...base, ...env }))
  expect(check({ PRODUCE_DEADLINE_MS: '2000' })).not.toThrow()
  expect(loadEnv(ApiSettings, base).PRODUCE_CLOCK_SKEW_MS).toBe(100)
  let err: unknown
  try { check({ PRODUCE_DEADLINE_MS: '500', PRODUCE_CLOCK_SKEW_MS: '500' })() } catch (e) { err = e }
  expect(err).toBeInstanceOf(ConfigError)
  expect((err as ConfigError).variable).toBe('PRODUCE_CLOCK_SKEW_MS')
})
