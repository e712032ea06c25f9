/**
 * Time-ordered ids in the ULID layout: 10 Crockford base32 characters of
 * millisecond timestamp (48 bits) then 16 of randomness (80 bits). They
 * sort as strings in creation order (sort keys, command ids), are URL-safe
 * and need no coordination. Within one generator, ids are strictly
 * increasing: in the same millisecond (or if the clock steps back) the
 * previous random part is incremented instead of drawn again.
 */

export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const TIME_CHARS = 10
const RANDOM_CHARS = 16
const MAX_TIME = 2 ** 48 - 1

export interface IdGeneratorOptions {
  /** Clock in epoch ms; default Date.now. */
  now?: () => number
  /** Fills a buffer with random bytes; default crypto.getRandomValues. */
  random?: (bytes: Uint8Array) => void
}

export function encodeTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIME) throw new RangeError(`time out of range for an id: ${ms}`)
  let out = ''
  let t = ms
  for (let i = 0; i < TIME_CHARS; i++) {
    out = CROCKFORD[t % 32] + out
    t = Math.floor(t / 32)
  }
  return out
}

/** Epoch ms encoded in an id's first 10 characters (undefined if malformed). */
export function idTime(id: string): number | undefined {
  if (id.length < TIME_CHARS) return undefined
  let t = 0
  for (let i = 0; i < TIME_CHARS; i++) {
    const d = CROCKFORD.indexOf(id[i]!)
    if (d < 0) return undefined
    t = t * 32 + d
  }
  return t <= MAX_TIME ? t : undefined
}

export function createIdGenerator(options: IdGeneratorOptions = {}): () => string {
  const now = options.now ?? Date.now
  const random = options.random ?? ((b: Uint8Array) => crypto.getRandomValues(b))
  let lastTime = -1
  const digits = new Array<number>(RANDOM_CHARS).fill(0)
  const bytes = new Uint8Array(RANDOM_CHARS)

  return function newId(): string {
    let time = Math.max(Math.floor(now()), lastTime)
    if (time === lastTime) {
      // increment the 80-bit random part; on overflow borrow the next ms
      let i = RANDOM_CHARS - 1
      while (i >= 0 && digits[i] === 31) digits[i--] = 0
      if (i >= 0) digits[i]!++
      else time++
    } else {
      random(bytes)
      for (let i = 0; i < RANDOM_CHARS; i++) digits[i] = bytes[i]! & 31
    }
    lastTime = time
    return encodeTime(time) + digits.map((d) => CROCKFORD[d]).join('')
  }
}

/** Process-wide generator. */
export const newId: () => string = createIdGenerator()
