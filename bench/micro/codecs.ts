/**
 * The micro-benchmark's alternatives, small enough to read at a glance.
 *
 * Length-prefixed encoding of a JSON-like value (big-endian lengths):
 *   value := tag(1 byte) body
 *   'n' null | 't' true | 'f' false | 'd' float64 | 's' u32 length + UTF-8
 *   'a' u32 count + values | 'o' u32 count + (u32 key length + key UTF-8, value)*
 * Not a proposal for the wire (JSON stays, for its tooling); it shows what a binary form saves.
 */
const enc = new TextEncoder()
const dec = new TextDecoder()

export function lpEncode (value: unknown): Uint8Array {
  const parts: Uint8Array[] = []
  let size = 0
  const push = (b: Uint8Array) => { parts.push(b); size += b.byteLength }
  const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); push(b) }
  const tag = (c: string) => push(new Uint8Array([c.charCodeAt(0)]))
  const str = (s: string) => { const b = enc.encode(s); u32(b.byteLength); push(b) }
  const walk = (v: unknown): void => {
    if (v === null || v === undefined) tag('n')
    else if (v === true) tag('t')
    else if (v === false) tag('f')
    else if (typeof v === 'number') { tag('d'); const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, v); push(b) }
    else if (typeof v === 'string') { tag('s'); str(v) }
    else if (Array.isArray(v)) { tag('a'); u32(v.length); for (const x of v) walk(x) }
    else { const e = Object.entries(v as object).filter(([, x]) => x !== undefined); tag('o'); u32(e.length); for (const [k, x] of e) { str(k); walk(x) } }
  }
  walk(value)
  const out = new Uint8Array(size)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.byteLength }
  return out
}

export function lpDecode (buf: Uint8Array): unknown {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  let o = 0
  const u32 = () => { const n = view.getUint32(o); o += 4; return n }
  const str = () => { const n = u32(); const s = dec.decode(buf.subarray(o, o + n)); o += n; return s }
  const walk = (): unknown => {
    const t = String.fromCharCode(buf[o++]!)
    switch (t) {
      case 'n': return null
      case 't': return true
      case 'f': return false
      case 'd': { const v = view.getFloat64(o); o += 8; return v }
      case 's': return str()
      case 'a': { const n = u32(); const a = new Array(n); for (let i = 0; i < n; i++) a[i] = walk(); return a }
      case 'o': { const n = u32(); const r: Record<string, unknown> = {}; for (let i = 0; i < n; i++) { const k = str(); r[k] = walk() } return r }
      default: throw new Error(`bad tag ${t} at ${o - 1}`)
    }
  }
  return walk()
}

type AttributeValue = { S: string } | { N: string } | { BOOL: boolean } | { NULL: true } | { L: AttributeValue[] } | { M: Record<string, AttributeValue> }

/** A plain object to DynamoDB's AttributeValue map (strings, numbers, booleans, null, lists, maps). */
export function handMarshall (item: object): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {}
  for (const k in item) {
    const v = (item as Record<string, unknown>)[k]
    if (v !== undefined) out[k] = value(v)
  }
  return out
}

function value (v: unknown): AttributeValue {
  if (typeof v === 'string') return { S: v }
  if (typeof v === 'number') return { N: String(v) }
  if (typeof v === 'boolean') return { BOOL: v }
  if (v === null) return { NULL: true }
  if (Array.isArray(v)) return { L: v.map(value) }
  return { M: handMarshall(v as object) }
}
