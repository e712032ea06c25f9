/**
 * `bun run bench:micro`: the hot paths, each beside the obvious alternative (mitata, one process,
 * no stack needed). Groups:
 *   validation   TypeBox compiled check of a create body vs JSON.parse alone
 *   command      encode/decode: JSON (+ schema check, as the API and updater do) vs bun:jsc's
 *                structured-clone serialize (binary) vs a hand-written length-prefixed encoding
 *   fold         the updater's fold of a 500-command batch (one user; 100 users × 5) vs decoding it
 *   marshall     a reservation item to DynamoDB's wire shape: @aws-sdk/util-dynamodb vs hand-written
 *   jwt          verifyJwt (parse, HMAC, claims) vs the HMAC alone
 * Prints mitata's table; writes the means to bench/results/micro-<timestamp>.json.
 */
import { createHmac } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { deserialize, serialize } from 'bun:jsc'
import { marshall } from '@aws-sdk/util-dynamodb'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { bench, do_not_optimize, group, run, summary } from 'mitata'
import { signJwt, verifyJwt } from '../../api/auth/jwt.ts'
import { fold, type FoldCommand } from '../../shared/domain/fold.ts'
import { newId } from '../../shared/domain/ids.ts'
import type { ReservationItem } from '../../shared/domain/items.ts'
import { decodeCommand, encodeCommand, type Command } from '../../shared/schemas/command.ts'
import { ReservationCreateBody } from '../../shared/schemas/reservation.ts'
import { reservationBody, seedItems } from '../lib/seed.ts'
import { handMarshall, lpDecode, lpEncode } from './codecs.ts'
import { emptyTableIndex } from '../../shared/domain/loads.ts'

const body = reservationBody(42)
const bodyJson = JSON.stringify(body)
const bodyCheck = TypeCompiler.Compile(ReservationCreateBody)

const command = { v: 1, id: newId(), type: 'reservation.create', userId: 'user-42', actorId: 'user-42', acceptedAt: Date.now(), payload: { reservationId: newId(), ...body } } as Command
const commandJson = encodeCommand(command)
const commandJsc = serialize(command, { binaryType: 'nodebuffer' }) as Buffer
const commandLp = lpEncode(command)

function batch (users: number, perUser: number): Map<string, FoldCommand[]> {
  const out = new Map<string, FoldCommand[]>()
  let offset = 1000
  for (let u = 0; u < users; u++) {
    const userId = `user-${u}`
    const cmds: FoldCommand[] = []
    const ids: string[] = []
    for (let k = 0; k < perUser; k++) {
      // Creates, then updates of what was created: the mix a busy partition sees.
      if (k < perUser / 2 || ids.length === 0) {
        const reservationId = newId()
        ids.push(reservationId)
        cmds.push({ offset: offset++, command: { v: 1, id: newId(), type: 'reservation.create', userId, actorId: userId, acceptedAt: 1_900_000_000_000 + k, payload: { reservationId, ...reservationBody(k) } } as Command })
      } else {
        cmds.push({ offset: offset++, command: { v: 1, id: newId(), type: 'reservation.update', userId, actorId: userId, acceptedAt: 1_900_000_000_000 + k, payload: { reservationId: ids[k % ids.length]!, patch: { title: `Changed ${k}` } } } as Command })
      }
    }
    out.set(userId, cmds)
  }
  return out
}
const oneUser = batch(1, 500)
const manyUsers = batch(100, 5)
const oneUserJson = [...oneUser.values()].flat().map(c => JSON.stringify(c.command))

const reservation = seedItems(7).find(i => i.entity === 'reservation') as ReservationItem
const secret = 'a-secret-of-at-least-thirty-two-characters!'
const jwt = signJwt(secret, { sub: 'user-42', exp: Math.floor(Date.now() / 1000) + 3600 })
const [jh, jb] = jwt.split('.')

group('request validation (reservation create body)', () => {
  summary(() => {
    bench('JSON.parse only', () => do_not_optimize(JSON.parse(bodyJson)))
    bench('JSON.parse + TypeBox compiled Check', () => do_not_optimize(bodyCheck.Check(JSON.parse(bodyJson))))
  })
})

group('command encode', () => {
  summary(() => {
    bench('encodeCommand (check + JSON.stringify)', () => do_not_optimize(encodeCommand(command)))
    bench('JSON.stringify only', () => do_not_optimize(JSON.stringify(command)))
    bench('bun:jsc serialize (structured clone)', () => do_not_optimize(serialize(command)))
    bench('hand-written length-prefixed', () => do_not_optimize(lpEncode(command)))
  })
})

group('command decode', () => {
  summary(() => {
    bench('decodeCommand (JSON.parse + check)', () => do_not_optimize(decodeCommand(commandJson)))
    bench('JSON.parse only', () => do_not_optimize(JSON.parse(commandJson)))
    bench('bun:jsc deserialize', () => do_not_optimize(deserialize(commandJsc)))
    bench('hand-written length-prefixed', () => do_not_optimize(lpDecode(commandLp)))
  })
})

group('updater fold of a 500-command batch', () => {
  summary(() => {
    bench('fold: 1 user × 500 commands', () => { for (const [u, c] of oneUser) do_not_optimize(fold(u, new Map(), c, emptyTableIndex(c))) })
    bench('fold: 100 users × 5 commands', () => { for (const [u, c] of manyUsers) do_not_optimize(fold(u, new Map(), c, emptyTableIndex(c))) })
    bench('decode the 500 commands (JSON + check) for scale', () => { for (const j of oneUserJson) do_not_optimize(decodeCommand(j)) })
  })
})

group('DynamoDB marshalling of a reservation item', () => {
  summary(() => {
    bench('@aws-sdk/util-dynamodb marshall', () => do_not_optimize(marshall(reservation, { removeUndefinedValues: true })))
    bench('hand-written marshaller', () => do_not_optimize(handMarshall(reservation)))
  })
})

group('JWT check (HS256)', () => {
  summary(() => {
    bench('verifyJwt (split, parse, HMAC, claims)', () => do_not_optimize(verifyJwt(secret, jwt)))
    bench('HMAC-SHA256 alone', () => do_not_optimize(createHmac('sha256', secret).update(`${jh}.${jb}`).digest()))
  })
})

const sizes = { json: Buffer.byteLength(commandJson), jsc: commandJsc.byteLength, lengthPrefixed: commandLp.byteLength }
process.stderr.write(`command sizes (bytes): JSON ${sizes.json}, bun:jsc ${sizes.jsc}, length-prefixed ${sizes.lengthPrefixed}\n`)
const result = await run()
const means = Object.fromEntries(result.benchmarks.flatMap(b => b.runs.map(r => [`${b.alias}`, r.stats?.avg ?? null])))
const dir = join(import.meta.dir, '..', 'results')
mkdirSync(dir, { recursive: true })
const file = join(dir, `micro-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), bun: Bun.version, unit: 'ns per call (mean)', sizes, means }, null, 2) + '\n')
process.stderr.write(`wrote ${file}\n`)
