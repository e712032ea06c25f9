import ipaddr from 'ipaddr.js'

/**
 * The client's address of a request. Behind HAProxy the peer is the proxy; HAProxy appends the
 * address it saw to `X-Forwarded-For` (`option forwardfor`). A client can send its own
 * X-Forwarded-For, so only the LAST entry counts (the one our proxy appended), and only when the
 * peer is one of the trusted proxies (TRUSTED_PROXIES: addresses or CIDR ranges). Any other peer
 * is the client itself, whatever header it sends.
 */
export class ClientAddresses {
  private readonly ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>

  /** `trusted`: comma-separated addresses or CIDR ranges; throws on one that is neither. */
  constructor (trusted: string) {
    this.ranges = trusted.split(',').map(s => s.trim()).filter(Boolean).map(s => {
      if (ipaddr.isValidCIDR(s)) return ipaddr.parseCIDR(s)
      if (ipaddr.isValid(s)) {
        const a = ipaddr.process(s)
        return [a, a.kind() === 'ipv4' ? 32 : 128] as [ipaddr.IPv4 | ipaddr.IPv6, number]
      }
      throw new Error(`not an address or CIDR range: ${s}`)
    })
  }

  isTrusted (peer: string | undefined): boolean {
    if (!peer || !ipaddr.isValid(peer)) return false
    const a = ipaddr.process(peer) // ::ffff:127.0.0.1 counts as 127.0.0.1
    return this.ranges.some(([range, bits]) => range.kind() === a.kind() && a.match(range, bits))
  }

  /** The client's address: the proxy's last X-Forwarded-For entry when the peer is trusted, else the peer. */
  of (peer: string | undefined, forwardedFor: string | null): string {
    const own = peer ? normalise(peer) : 'unknown'
    if (!forwardedFor || !this.isTrusted(peer)) return own
    const last = forwardedFor.slice(forwardedFor.lastIndexOf(',') + 1).trim()
    return ipaddr.isValid(last) ? normalise(last) : own
  }
}

const normalise = (a: string) => ipaddr.isValid(a) ? ipaddr.process(a).toString() : a

/** Set by the server for each request it hands to the app (serve.ts); in-process tests have none. */
const addresses = new WeakMap<Request, string>()

export function setClientAddress (request: Request, address: string): void { addresses.set(request, address) }

export function clientAddress (request: Request): string { return addresses.get(request) ?? 'unknown' }
