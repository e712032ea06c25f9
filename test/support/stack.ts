/**
 * What integration tests need from the stack that `npm test` started (infra/stack/main.ts test):
 * endpoints and settings from the environment. Run outside it, they stop with a clear message.
 */
export function stackEnv (): Record<string, string> {
  if (!process.env.ROAD_WARRIOR_TEST_STACK || !process.env.KAFKA_BROKERS || !process.env.DYNAMODB_ENDPOINT) {
    throw new Error('integration tests need the test stack: run them with `npm test` (or `bun infra/stack/main.ts test <files>`)')
  }
  return process.env as Record<string, string>
}

export function brokers (): string[] {
  return stackEnv().KAFKA_BROKERS!.split(',')
}

export { freePort, freePorts } from '../../infra/stack/service.ts'

/** A unique suffix for topics, tables and ids made by one test run. */
export function uniq (prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}

export async function waitFor (what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 15_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try { if (await probe()) return } catch {}
    await Bun.sleep(intervalMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
