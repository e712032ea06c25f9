import { Admin } from '@platformatic/kafka'

/** Readiness check: the cluster answers a metadata request for `topics`. Cached briefly. */
export function kafkaReachable (brokers: string[], topics: string[], cacheMs = 2000): { check: () => Promise<boolean>, close: () => Promise<void> } {
  const admin = new Admin({ clientId: 'readiness', bootstrapBrokers: brokers, timeout: 1000, retries: 0 })
  let last = 0
  let ok = false
  return {
    check: async () => {
      if (performance.now() - last < cacheMs) return ok
      try {
        const meta = await admin.metadata({ topics, forceUpdate: true })
        ok = topics.every(t => meta.topics.has(t))
      } catch {
        ok = false
      }
      last = performance.now()
      return ok
    },
    close: () => admin.close()
  }
}
