import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/**
 * Webhook URLs come from users: without a check, a user could make the notifier POST into the
 * private network it runs in (cloud metadata at 169.254.169.254, internal services). A target whose
 * host resolves to a loopback, private, link-local, unique-local, CGNAT, multicast or unspecified
 * address is refused unless `allowPrivate` (the local stack and tests, whose receivers are on
 * loopback). The check resolves the name right before each delivery; a DNS answer that changes
 * between the check and the connection (rebinding) is not covered here: an egress proxy or network
 * policy is the production guard for that.
 */
export async function refusedWebhookTarget (url: string, allowPrivate: boolean, resolve: (host: string) => Promise<string[]> = resolveAll): Promise<string | undefined> {
  let host: string
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  } catch {
    return 'webhook URL does not parse'
  }
  if (allowPrivate) return undefined
  let addresses: string[]
  try {
    addresses = isIP(host) ? [host] : await resolve(host)
  } catch (err) {
    return `webhook host ${host} does not resolve (${(err as Error).message})`
  }
  const internal = addresses.find(isInternalAddress)
  return internal ? `webhook host ${host} resolves to a non-public address (${internal})` : undefined
}

async function resolveAll (host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map(a => a.address)
}

/** True for addresses no user webhook may target. Pure. */
export function isInternalAddress (ip: string): boolean {
  if (isIP(ip) === 4) return internalV4(ip)
  const v6 = ip.toLowerCase()
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v6)
  if (mapped) return internalV4(mapped[1]!)
  if (v6 === '::' || v6 === '::1') return true
  const first = parseInt(v6.split(':')[0] || '0', 16)
  return (first & 0xfe00) === 0xfc00 || // fc00::/7 unique local
    (first & 0xffc0) === 0xfe80 || // fe80::/10 link local
    (first & 0xff00) === 0xff00 // ff00::/8 multicast
}

function internalV4 (ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number]
  return a === 0 || a === 10 || a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // CGNAT
    (a === 169 && b === 254) || // link local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // 192.0.0.0/24, 192.0.2.0/24 documentation
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    a >= 224 // multicast, reserved, broadcast
}
