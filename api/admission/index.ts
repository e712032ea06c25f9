import { Elysia } from 'elysia'
import { type Logger } from '../../shared/log/logger.ts'
import { type Registry } from '../../shared/metrics/registry.ts'
import { ApiError } from '../errors.ts'
import { clientAddress } from './client-address.ts'
import { TokenBuckets } from './token-bucket.ts'

export interface AdmissionOptions {
  registry: Registry
  log: Logger
  /** Per user and process: tokens a second and bucket size (RATE_USER_PER_S, RATE_USER_BURST). */
  user: { perS: number, burst: number }
  /** Per agency and process (RATE_AGENCY_PER_S, RATE_AGENCY_BURST). */
  agency: { perS: number, burst: number }
  /** Tokens a write (any method but GET/HEAD/OPTIONS) takes; a read takes 1 (RATE_WRITE_COST). */
  writeCost: number
  /** Most buckets kept per scope (RATE_TRACKED_KEYS); see token-bucket.ts. */
  maxKeys: number
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Rate limits per user and per agency: token buckets, 429 `rate_limited` with Retry-After (whole
 * seconds, rounded up) once a bucket is empty. Applied once in app.ts as a global hook, so the
 * feature controllers do not change. It runs before the handler and after authentication: the
 * user id is the one the controller's auth derived from the token, the agency id the path's, once
 * the signature was checked (the parse step). Limiting only authenticated callers means a forger
 * cannot spend a real user's or agency's quota; unauthenticated floods are HAProxy's to stop
 * (per-address limits). The buckets are per process (see the README on fleet figures).
 */
export function admission (o: AdmissionOptions) {
  const users = new TokenBuckets({ ...o.user, maxKeys: o.maxKeys })
  const agencies = new TokenBuckets({ ...o.agency, maxKeys: o.maxKeys })
  const refused = o.registry.counter('api_rate_limited_total', 'Requests refused with 429 by a rate limit, by scope')
  o.registry.gauge('api_rate_limit_keys', 'Token buckets held in memory, by scope', () => [[{ scope: 'user' }, users.size], [{ scope: 'agency' }, agencies.size]])

  const check = (buckets: TokenBuckets, scope: 'user' | 'agency', key: string, cost: number, request: Request) => {
    const t = buckets.take(key, cost)
    if (t.ok) return
    refused.inc({ scope })
    // One line per run of refusals of a key, not one per refused request (a flood would flood the log).
    if (t.firstRefusal) o.log.warn('api_rate_limited', { scope, key, client: clientAddress(request), retryAfterS: t.retryAfterS })
    throw new ApiError(429, 'rate_limited', `too many requests for this ${scope}; retry in ${t.retryAfterS} s`, [], t.retryAfterS)
  }

  return new Elysia({ name: 'admission' })
    .onBeforeHandle({ as: 'global' }, ctx => {
      const cost = READS.has(ctx.request.method) ? 1 : o.writeCost
      const userId = (ctx as { userId?: unknown }).userId
      if (typeof userId === 'string') return check(users, 'user', userId, cost, ctx.request)
      const params = ctx.params as Record<string, unknown> | undefined
      const agencyId = params && Object.hasOwn(params, 'agencyId') ? params.agencyId : undefined
      if (typeof agencyId === 'string') return check(agencies, 'agency', agencyId, 1, ctx.request)
    })
}
