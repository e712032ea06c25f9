/**
 * `bun run token <userId> [hours]`: prints a user token (JWT HS256, `sub` = userId, valid 24 h by
 * default) that the running local stack accepts. JWT_SECRET comes from the environment, else from
 * the local stack's `.data/local.env` (STACK_DATA_DIR if set).
 */
import { join, resolve } from 'node:path'
import { signJwt } from '../api/auth/jwt.ts'
import { USER_ID_PATTERN } from '../shared/schemas/ids.ts'
import { readEnvFile } from './stack/local-env.ts'

const [userId, hoursArg] = process.argv.slice(2)
if (!userId || !new RegExp(USER_ID_PATTERN).test(userId)) {
  process.stderr.write(`usage: bun run token <userId> [hours]   (userId: ${USER_ID_PATTERN})\n`)
  process.exit(64)
}
const hours = hoursArg === undefined ? 24 : Number(hoursArg)
if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 365) {
  process.stderr.write('hours must be a number between 0 and 8760\n')
  process.exit(64)
}
const envFile = join(resolve(import.meta.dir, '..'), process.env.STACK_DATA_DIR ?? '.data', 'local.env')
const secret = process.env.JWT_SECRET ?? readEnvFile(envFile).JWT_SECRET
if (!secret) {
  process.stderr.write(`JWT_SECRET is neither in the environment nor in ${envFile}: start the stack once (npm start)\n`)
  process.exit(78)
}
const now = Math.floor(Date.now() / 1000)
process.stdout.write(signJwt(secret, { sub: userId, iat: now, exp: now + Math.round(hours * 3600) }) + '\n')
