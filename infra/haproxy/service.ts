import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { httpOk, pollUntil, type ServiceSpec } from '../stack/service.ts'
import { haproxyConfig, type HaproxyOptions } from './config.ts'

export function haproxyService (o: HaproxyOptions, dir: string, name = 'haproxy'): ServiceSpec {
  const file = join(dir, `${name}.cfg`)
  writeFileSync(file, haproxyConfig(o))
  return {
    name,
    cmd: [haproxyBinary(), '-db', '-f', file],
    restart: true,
    stopTimeoutMs: 5000,
    ready: signal => pollUntil('haproxy', () => httpOk(`http://127.0.0.1:${o.statsPort}/`), signal)
  }
}

export function haproxyBinary (): string {
  return Bun.which('haproxy') ?? Bun.which('haproxy', { PATH: '/usr/sbin:/usr/local/sbin' }) ?? 'haproxy'
}
