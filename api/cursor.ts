import { invalidField } from './errors.ts'

/**
 * Opaque cursors: base64url of a small JSON object. They only ever carry sort-key parts; the
 * partition (the caller's user id) is always taken from the token, never from the cursor, so a
 * forged cursor can only move within the caller's own data.
 */
export function encodeCursor (value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

export function decodeCursor (cursor: string | undefined, check: (v: Record<string, unknown>) => boolean): Record<string, string> | undefined {
  if (cursor === undefined) return undefined
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every(x => typeof x === 'string') && check(v as Record<string, unknown>)) {
      return v as Record<string, string>
    }
  } catch {}
  throw invalidField('query.cursor', 'invalid_cursor', 'cursor is not one this API returned')
}
