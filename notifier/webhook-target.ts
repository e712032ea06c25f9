import { Resolver } from 'node:dns/promises'
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

/**
 * Webhook URLs come from users: without a check, a user could make the notifier POST into the
 * private network it runs in (cloud metadata at 169.254.169.254, internal services). The host is
 * resolved once per attempt (time-bounded, cancellable), every address is classified with
 * ipaddr.js, and the call then goes to the checked address itself (webhook.ts: the URL's host is
 * replaced by that address, with the Host header and the TLS server name kept as the user's host),
 * so a DNS answer that changes between the check and the connection (rebinding) is never used.
 *
 * Only globally routable unicast is allowed. Addresses that carry an IPv4 address inside an IPv6
 * one are judged by that IPv4 address: IPv4-mapped (::ffff:a.b.c.d, which the URL parser writes
 * ::ffff:7f00:1 for [::ffff:127.0.0.1]), IPv4-translated (::ffff:0:a.b.c.d), NAT64 64:ff9b::/96,
 * 6to4 2002::/16 and Teredo 2001::/32 (server and client addresses). The local-use NAT64 prefix
 * 64:ff9b:1::/48 (its embedding depends on the operator's prefix length) and the deprecated
 * IPv4-compatible ::/96 are refused whole. `allowPrivate` (local stack and tests, receivers on
 * loopback) skips the classification, never the pinning.
 */

export interface WebhookTarget {
  url: URL
  /** The addresses the host resolved to, checked; a call goes to the first. */
  addresses: string[]
}

export type Resolve = (host: string, signal: AbortSignal) => Promise<string[]>

export class TargetRefused extends Error {
  readonly code = 'WEBHOOK_TARGET_REFUSED'
  readonly canRetry: boolean
  constructor (message: string, canRetry: boolean) {
    super(message)
    this.name = 'TargetRefused'
    this.canRetry = canRetry
  }
}

/** Resolves and checks a webhook URL's host; throws TargetRefused (retriable only for DNS failures). */
export async function webhookTarget (raw: string, o: { allowPrivate: boolean, signal: AbortSignal, resolve?: Resolve }): Promise<WebhookTarget> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new TargetRefused('webhook URL does not parse', false)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TargetRefused(`webhook URL scheme ${url.protocol} is not http(s)`, false)
  if (url.username || url.password) throw new TargetRefused('webhook URL carries credentials', false)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  let addresses: string[]
  if (isIP(host)) addresses = [host]
  else {
    try {
      addresses = await (o.resolve ?? resolveHost)(host, o.signal)
    } catch (err) {
      if (o.signal.aborted) throw err
      throw new TargetRefused(`webhook host ${host} does not resolve (${(err as Error).message})`, true)
    }
    if (addresses.length === 0) throw new TargetRefused(`webhook host ${host} has no address`, true)
  }
  if (!o.allowPrivate) {
    const internal = addresses.find(isInternalAddress)
    if (internal !== undefined) throw new TargetRefused(`webhook host ${host} resolves to a non-public address (${internal})`, false)
  }
  return { url, addresses }
}

/**
 * A and AAAA through c-ares (asynchronous, unlike getaddrinfo, which holds a thread until the
 * system resolver gives up): each query bounded by the resolver's timeout, all cancelled when the
 * attempt's deadline aborts `signal`. `localhost` names are loopback (RFC 6761), never asked.
 */
export async function resolveHost (host: string, signal: AbortSignal): Promise<string[]> {
  if (host === 'localhost' || host.endsWith('.localhost')) return ['127.0.0.1', '::1']
  if (signal.aborted) throw signal.reason
  const resolver = new Resolver({ timeout: 2000, tries: 2 })
  const cancel = () => resolver.cancel()
  signal.addEventListener('abort', cancel, { once: true })
  try {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)])
    if (signal.aborted) throw signal.reason
    const out = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])]
    if (out.length === 0) throw (v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : new Error('no address'))
    return out
  } finally {
    signal.removeEventListener('abort', cancel)
  }
}

const NAT64_WELL_KNOWN = ipaddr.IPv6.parse('64:ff9b::')
const NAT64_LOCAL_USE = ipaddr.IPv6.parse('64:ff9b:1::')

/** True for addresses no user webhook may target (anything but globally routable unicast). Pure. */
export function isInternalAddress (ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, '')
  const family = isIP(bare.replace(/%.*$/, ''))
  if (family === 0) return true // not an address: refuse rather than guess
  const addr = ipaddr.parse(bare)
  if (addr.kind() === 'ipv4') return internalV4(addr as ipaddr.IPv4)
  const v6 = addr as ipaddr.IPv6
  for (const v4 of embeddedV4(v6)) if (internalV4(v4)) return true
  switch (v6.range()) {
    case 'unicast':
      // ::/96 (IPv4-compatible, deprecated) is classed unicast by the library; no public host uses it
      return v6.parts.slice(0, 6).every(p => p === 0)
    case 'ipv4Mapped': case 'rfc6145': case '6to4': case 'teredo':
      return false // judged above by the IPv4 address inside
    case 'rfc6052':
      return v6.match(NAT64_LOCAL_USE, 48) || !v6.match(NAT64_WELL_KNOWN, 96)
    default:
      return true // loopback, unspecified, link-local, unique local, multicast, reserved, documentation, benchmarking, ...
  }
}

/** The IPv4 addresses an IPv6 address carries (mapped, translated, NAT64 /96, 6to4, Teredo). Pure. */
export function embeddedV4 (v6: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = v6.parts
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff])
  switch (v6.range()) {
    case 'ipv4Mapped': case 'rfc6145': return [v4(p[6]!, p[7]!)]
    case 'rfc6052': return v6.match(NAT64_WELL_KNOWN, 96) ? [v4(p[6]!, p[7]!)] : []
    case '6to4': return [v4(p[1]!, p[2]!)]
    // Teredo: server at bits 32-63, client (obfuscated: inverted) in the last 32 bits
    case 'teredo': return [v4(p[2]!, p[3]!), v4(p[6]! ^ 0xffff, p[7]! ^ 0xffff)]
    default: return []
  }
}

function internalV4 (ip: ipaddr.IPv4): boolean {
  // unicast is everything the library does not name: private, loopback, link-local (metadata),
  // carrier-grade NAT, unspecified (0/8), broadcast, multicast, reserved (incl. 240/4), as112, amt are not
  return ip.range() !== 'unicast'
}
