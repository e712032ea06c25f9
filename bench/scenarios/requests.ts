import type { RequestSpec } from 'autocannon'
import { reservationBody, seedTripId } from '../lib/seed.ts'
import type { BenchContext } from '../lib/context.ts'

/**
 * autocannon request templates over the seeded users: each request picks the next user (a stride
 * through all of them, so every connection touches many users) with that user's token.
 */

const BODIES = Array.from({ length: 512 }, (_, n) => JSON.stringify(reservationBody(n)))

function picker (users: number, seed: number): () => number {
  let i = seed % Math.max(1, users)
  // A large odd stride visits every user before repeating (users is not a multiple of it in practice).
  return () => { i = (i + 7919) % users; return i }
}

/** POST /v1/reservations with a realistic body for many users (into their Unassigned trip). */
export function writeRequests (ctx: Pick<BenchContext, 'tokens' | 'seededUsers'>, seed = 1): RequestSpec[] {
  const next = picker(ctx.seededUsers, seed)
  let n = 0
  return [{
    method: 'POST',
    path: '/v1/reservations',
    setupRequest: req => {
      const u = next()
      return { ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.tokens[u]}` }, body: BODIES[n++ % BODIES.length] }
    }
  }]
}

/** GET /v1/trips/:id: a seeded user's dashboard (the trip and its 10 reservations). */
export function readRequests (ctx: Pick<BenchContext, 'tokens' | 'seededUsers'>, seed = 2): RequestSpec[] {
  const next = picker(ctx.seededUsers, seed)
  return [{
    method: 'GET',
    setupRequest: req => {
      const u = next()
      return { ...req, path: `/v1/trips/${seedTripId(u)}`, headers: { authorization: `Bearer ${ctx.tokens[u]}` } }
    }
  }]
}
