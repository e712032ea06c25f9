import { describe, expect, test } from 'bun:test'
import { isInternalAddress, refusedWebhookTarget } from './webhook-target.ts'

describe('webhook targets', () => {
  test('internal addresses are recognised, public ones are not', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1']) {
      expect(`${ip} ${isInternalAddress(ip)}`).toBe(`${ip} true`)
    }
    for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(`${ip} ${isInternalAddress(ip)}`).toBe(`${ip} false`)
    }
  })

  test('a host resolving to any internal address is refused; allowPrivate lets loopback receivers through', async () => {
    const dns = (answers: Record<string, string[]>) => async (h: string) => { const a = answers[h]; if (!a) throw new Error('ENOTFOUND'); return a }
    const resolve = dns({ 'hooks.example.com': ['93.184.216.34'], 'sneaky.example.com': ['93.184.216.34', '10.0.0.5'] })
    expect(await refusedWebhookTarget('https://hooks.example.com/x', false, resolve)).toBeUndefined()
    expect(await refusedWebhookTarget('https://sneaky.example.com/x', false, resolve)).toContain('10.0.0.5')
    expect(await refusedWebhookTarget('https://169.254.169.254/latest/meta-data', false, resolve)).toContain('non-public')
    expect(await refusedWebhookTarget('https://[::1]:8443/', false, resolve)).toContain('non-public')
    expect(await refusedWebhookTarget('https://nowhere.example.com/', false, resolve)).toContain('does not resolve')
    expect(await refusedWebhookTarget('http://127.0.0.1:9999/hook', true, resolve)).toBeUndefined()
  })
})
