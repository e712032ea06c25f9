/**
 * Bare baselines for the write route: `bun bench/baseline/server.ts bun|elysia <port> <jwtSecret>`.
 *   bun     Bun.serve answering 202 to any POST (the floor: HTTP alone);
 *   elysia  an Elysia route POST /v1/reservations with the API's own JWT check and the same TypeBox
 *           body schema, answering 202 with a new id: the API minus Kafka, DynamoDB and middleware.
 * Both answer GET /readyz (HAProxy's health check).
 */
import { Elysia } from 'elysia'
import { verifyJwt } from '../../api/auth/jwt.ts'
import { newId } from '../../shared/domain/ids.ts'
import { ReservationCreateBody } from '../../shared/schemas/reservation.ts'

const [mode, portArg, secret] = process.argv.slice(2)
const port = Number(portArg)
if ((mode !== 'bun' && mode !== 'elysia') || !Number.isInteger(port) || !secret) {
  process.stderr.write('usage: bun bench/baseline/server.ts bun|elysia <port> <jwtSecret>\n')
  process.exit(64)
}

if (mode === 'bun') {
  Bun.serve({
    hostname: '127.0.0.1',
    port,
    async fetch (req) {
      if (req.method === 'GET') return Response.json({ status: 'ready' })
      await req.arrayBuffer()
      return Response.json({ id: newId(), status: 'accepted' }, { status: 202 })
    }
  })
} else {
  new Elysia({ normalize: false })
    .get('/readyz', () => ({ status: 'ready' }))
    .derive(({ headers }) => {
      const m = /^Bearer[ ]+([A-Za-z0-9_.-]+)[ ]*$/i.exec(headers.authorization ?? '')
      const r = m ? verifyJwt(secret, m[1]!) : undefined
      return { userId: r?.ok ? r.userId : undefined }
    })
    .post('/v1/reservations', ({ userId, set }) => {
      if (!userId) { set.status = 401; return { error: 'unauthorized' } }
      set.status = 202
      return { id: newId(), status: 'accepted' }
    }, { body: ReservationCreateBody })
    .listen({ hostname: '127.0.0.1', port })
}
process.on('SIGTERM', () => process.exit(0))
