import { describe, expect, test } from 'bun:test'
import { isInternalAddress, webhookTarget } from './webhook-target.ts'

// Hand-written cases (the oracle): each range of the brief, and the embedded-IPv4 forms of private addresses.
const INTERNAL = [
  // IPv4: loopback, private, link-local and the cloud metadata address, CGNAT (and Alibaba's metadata in it), unspecified, multicast, broadcast, reserved, documentation, benchmarking
  '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '169.254.0.1', '100.64.0.1', '100.100.100.200',
  '0.0.0.0', '0.1.2.3', '224.0.0.1', '239.255.255.255', '255.255.255.255', '240.0.0.1', '192.0.0.8', '192.0.2.1', '198.51.100.7', '203.0.113.9', '198.18.0.1',
  // IPv6: loopback, unspecified, unique local (AWS IPv6 metadata fd00:ec2::254 among them), link-local, multicast, site-local, documentation
  '::1', '::', 'fc00::1', 'fd12:3456::1', 'fd00:ec2::254', 'fe80::1', 'fe80::1%eth0', 'ff02::1', 'fec0::1', '2001:db8::1',
  // IPv4-mapped, as written and as the URL parser rewrites [::ffff:127.0.0.1]
  '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', new URL('http://[::ffff:127.0.0.1]/').hostname,
  // IPv4-translated and IPv4-compatible (deprecated)
  '::ffff:0:7f00:1', '::7f00:1', '::a00:1',
  // NAT64 well-known prefix of 127.0.0.1, 10.0.0.1, 169.254.169.254; the local-use NAT64 prefix whole
  '64:ff9b::7f00:1', '64:ff9b::127.0.0.1', '64:ff9b::a00:1', '64:ff9b::a9fe:a9fe', '64:ff9b:1::808:808', '64:ff9b:1:ffff::1',
  // 6to4 of 127.0.0.1, 10.0.0.1, 192.168.1.1
  '2002:7f00:1::1', '2002:a00:1::1', '2002:c0a8:101::1',
  // Teredo: client 10.0.0.1 (stored inverted: f5ff:fffe) behind a public server; a loopback server with a public client
  '2001:0:4136:e378:8000:63bf:f5ff:fffe', '2001:0:7f00:1:8000:63bf:f7f7:f7f7',
  // not addresses at all
  'example.com', '', '1.2.3',
]
const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2606:4700::1111', '2a00:1450:4007:80f::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1', '2001:0:4136:e378:8000:63bf:f7f7:f7f7']

describe('webhook targets', () => {
  test('internal addresses are recognised, public ones are not', () => {
    for (const ip of INTERNAL) expect(`${ip} ${isInternalAddress(ip)}`).toBe(`${ip} true`)
    for (const ip of PUBLIC) expect(`${ip} ${isInternalAddress(ip)}`).toBe(`${ip} false`)
  })

  const dns = (answers: Record<string, string[]>) => async (h: string) => { const a = answers[h]; if (!a) throw new Error('ENOTFOUND'); return a }
  const resolve = dns({ 'hooks.example.com': ['93.184.216.34'], 'sneaky.example.com': ['93.184.216.34', '10.0.0.5'], 'mapped.example.com': ['::ffff:7f00:1'], 'nat64.example.com': ['64:ff9b::a00:1'] })
  const refusal = (url: string, allowPrivate = false) => webhookTarget(url, { allowPrivate, signal: AbortSignal.timeout(1000), resolve }).then(() => undefined, (e: Error & { canRetry?: boolean }) => ({ message: e.message, canRetry: e.canRetry }))

  test('a host resolving to any internal address is refused (final); allowPrivate lets loopback receivers through', async () => {
    expect(await webhookTarget('https://hooks.example.com/x', { allowPrivate: false, signal: AbortSignal.timeout(1000), resolve })).toMatchObject({ addresses: ['93.184.216.34'] })
    expect(await refusal('https://sneaky.example.com/x')).toMatchObject({ message: expect.stringContaining('10.0.0.5'), canRetry: false })
    expect((await refusal('https://mapped.example.com/x'))?.message).toContain('non-public')
    expect((await refusal('https://nat64.example.com/x'))?.message).toContain('non-public')
    expect((await refusal('https://169.254.169.254/latest/meta-data'))?.message).toContain('non-public')
    expect((await refusal('https://[::1]:8443/'))?.message).toContain('non-public')
    expect((await refusal('http://[::ffff:127.0.0.1]:9999/hook'))?.message).toContain('non-public')
    expect((await refusal('http://2130706433/hook'))?.message).toContain('non-public') // 127.0.0.1 as one number
    expect(await refusal('https://nowhere.example.com/')).toMatchObject({ message: expect.stringContaining('does not resolve'), canRetry: true })
    expect((await refusal('ftp://hooks.example.com/'))?.message).toContain('scheme')
    expect(await refusal('http://127.0.0.1:9999/hook', true)).toBeUndefined()
  })

  test('the lookup is cut off by the attempt deadline', async () => {
    const hanging = (_h: string, signal: AbortSignal) => new Promise<string[]>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    const t0 = performance.now()
    const r = await webhookTarget('https://slow-dns.example.com/', { allowPrivate: false, signal: AbortSignal.timeout(100), resolve: hanging }).catch((e: Error) => e)
    expect(r).toBeInstanceOf(Error)
    expect(performance.now() - t0).toBeLessThan(1000)
  })
})
