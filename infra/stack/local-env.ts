import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'

/** Reads `KEY=VALUE` lines (the format of .data/local.env). */
export function readEnvFile (file: string): Record<string, string> {
  if (!existsSync(file)) return {}
  const out: Record<string, string> = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (m) out[m[1]!] = m[2]!
  }
  return out
}

export function writeEnvFile (file: string, values: Record<string, string>): void {
  const body = Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n'
  writeFileSync(file, `# Written by the local stack: endpoints and generated secrets. Do not commit.\n${body}`, { mode: 0o600 })
}

/** Secrets generated on first start and kept, so tokens and agency signatures stay valid across restarts. */
export function localSecrets (previous: Record<string, string>): { JWT_SECRET: string, AGENCY_SECRETS: string } {
  return {
    JWT_SECRET: previous.JWT_SECRET ?? randomBytes(32).toString('base64url'),
    AGENCY_SECRETS: previous.AGENCY_SECRETS ?? JSON.stringify({ demo: randomBytes(24).toString('base64url') })
  }
}
