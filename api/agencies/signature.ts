import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Agency request signature, header `X-Signature: sha256=<hex>` where
 *   hex = lowercase hex of HMAC-SHA256(key = the agency's secret (UTF-8), message = the raw request body bytes)
 * computed over the body exactly as sent (no re-serialisation). Compared in constant time.
 */
export function signBody (secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}

export function validSignature (secret: string | undefined, body: string | Uint8Array, header: string | null | undefined): boolean {
  if (!secret || !header) return false
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim())
  if (!m) return false
  const given = Buffer.from(m[1]!, 'hex')
  const expected = createHmac('sha256', secret).update(body).digest()
  return timingSafeEqual(given, expected)
}
