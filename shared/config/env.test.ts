import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { ConfigError, loadEnv } from './env.ts'

const Schema = Type.Object({
  PORT: Type.Integer({ default: 3000, minimum: 1, maximum: 65535, description: 'HTTP port' }),
  BROKERS: Type.String({ minLength: 3, description: 'broker list' }),
  SECRETS: Type.Record(Type.String(), Type.String(), { description: 'JSON object of id to secret' }),
  VERBOSE: Type.Boolean({ default: false, description: 'more logs' }),
  URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'endpoint URL' }))
})

const fails = (env: Record<string, string>) => {
  try { loadEnv(Schema, env) } catch (err) { return err as ConfigError }
  throw new Error('expected a ConfigError')
}

describe('loadEnv', () => {
  test('defaults apply, strings become numbers, booleans and JSON, unknown variables are ignored', () => {
    expect(loadEnv(Schema, { BROKERS: 'k:9092', SECRETS: '{"a":"b"}', VERBOSE: 'true', HOME: '/root' }))
      .toEqual({ PORT: 3000, BROKERS: 'k:9092', SECRETS: { a: 'b' }, VERBOSE: true })
    expect(loadEnv(Schema, { PORT: '8080', BROKERS: 'k:9092', SECRETS: '{}', URL: 'http://x' }).PORT).toBe(8080)
  })

  test('a missing, malformed or out-of-range value names its variable and what was expected', () => {
    expect(fails({ SECRETS: '{}' })).toMatchObject({ variable: 'BROKERS', message: expect.stringContaining('BROKERS is required: expected broker list') })
    expect(fails({ BROKERS: 'k:9092', SECRETS: '{nope' })).toMatchObject({ variable: 'SECRETS', message: expect.stringContaining('JSON (JSON object of id to secret)') })
    expect(fails({ BROKERS: 'k:9092', SECRETS: '{}', PORT: '70000' })).toMatchObject({ variable: 'PORT', got: '70000' })
    expect(fails({ BROKERS: 'k:9092', SECRETS: '{}', PORT: 'eighty' })).toMatchObject({ variable: 'PORT' })
    expect(fails({ BROKERS: 'k:9092', SECRETS: '{}', URL: 'ftp://x' })).toMatchObject({ variable: 'URL' })
  })
})

const repo = join(import.meta.dir, '..', '..')
const unreachable = { PATH: process.env.PATH ?? '', KAFKA_BROKERS: '127.0.0.1:9', DYNAMODB_ENDPOINT: 'http://127.0.0.1:9' }

/** Starts `<role>/main.ts` with `env` and waits for it to exit; its JSON log lines, stdout then stderr. */
async function runRole (role: string, env: Record<string, string>): Promise<{ code: number, lines: Array<Record<string, unknown>> }> {
  const proc = Bun.spawn([process.execPath, join(repo, role, 'main.ts')], { cwd: repo, env: { ...unreachable, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000) // a role that did start must not outlive the test
  const code = await proc.exited
  clearTimeout(kill)
  const text = await new Response(proc.stdout).text() + await new Response(proc.stderr).text()
  return { code, lines: text.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l)) }
}

describe('a role started with a bad configuration stops at once, naming the variable (exit 78)', () => {
  const cases: Array<[string, Record<string, string>, string]> = [
    ['api', { AGENCY_SECRETS: '{"demo":"0123456789abcdef"}' }, 'JWT_SECRET'],
    ['api', { JWT_SECRET: 'x'.repeat(32), AGENCY_SECRETS: '{"demo":"short"}' }, 'AGENCY_SECRETS'],
    ['api', { JWT_JWKS_URL: 'idp.example/jwks', AGENCY_SECRETS: '{"demo":"0123456789abcdef"}' }, 'JWT_JWKS_URL'],
    ['api', { JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'https://idp.example/', JWT_AUDIENCE: 'road-warrior', AGENCY_SECRETS: '{"demo":"0123456789abcdef"}' }, 'STREAM_TICKET_SECRET'],
    // A key set needs the issuer and audience its tokens must name, and https (http for loopback only).
    ['api', { JWT_JWKS_URL: 'https://idp.example/jwks', STREAM_TICKET_SECRET: 'k'.repeat(32), AGENCY_SECRETS: '{"demo":"0123456789abcdef"}' }, 'JWT_ISSUER'],
    ['api', { JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'https://idp.example/', STREAM_TICKET_SECRET: 'k'.repeat(32), AGENCY_SECRETS: '{"demo":"0123456789abcdef"}' }, 'JWT_AUDIENCE'],
    ['api', { JWT_JWKS_URL: 'http://idp.example/jwks', JWT_ISSUER: 'https://idp.example/', JWT_AUDIENCE: 'road-warrior', STREAM_TICKET_SECRET: 'k'.repeat(32), AGENCY_SECRETS: '{"demo":"0123456789abcdef"}' }, 'JWT_JWKS_URL'],
    ['api', { JWT_SECRET: 'x'.repeat(32), AGENCY_SECRETS: '{"demo":"0123456789abcdef"}', TRUSTED_PROXIES: '127.0.0.1,not-an-address' }, 'TRUSTED_PROXIES'],
    ['api', { JWT_SECRET: 'x'.repeat(32), AGENCY_SECRETS: '{"demo":"0123456789abcdef"}', RATE_USER_PER_S: '0' }, 'RATE_USER_PER_S'],
    ['updater', { KAFKA_BROKERS: 'no port' }, 'KAFKA_BROKERS'],
    ['notifier', { NOTIFIER_SESSION_TIMEOUT_MS: '100' }, 'NOTIFIER_SESSION_TIMEOUT_MS']
  ]
  for (const [role, env, variable] of cases) {
    test(`${role}: ${variable}`, async () => {
      const { code, lines } = await runRole(role, env)
      expect(code).toBe(78)
      expect(lines.at(-1)).toMatchObject({ level: 'fatal', msg: 'config_invalid', variable })
    })
  }
})

describe('a role whose port is taken stops at once, naming the port and its variable (exit 69)', () => {
  for (const role of ['updater', 'notifier']) {
    test(role, async () => {
      const taken = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data () {} } })
      try {
        const { code, lines } = await runRole(role, { PORT: String(taken.port) })
        expect(code).toBe(69)
        expect(lines.find(l => l.msg === 'listen_failed')).toMatchObject({ level: 'error', port: taken.port, variable: 'PORT', code: 'EADDRINUSE' })
      } finally {
        taken.stop(true)
      }
    })
  }
})
