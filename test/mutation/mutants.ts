/**
 * Mutant generator: every deliberate mutation of one TypeScript source,
 * found by a token scan of the text (no hand-picked list), so the count is
 * meaningful. Comments, template literals and import/export lines are left
 * alone; a mutant that does not parse, or that transpiles to the same
 * JavaScript as the original (a change inside a type), is dropped, so every
 * mutant listed changes what runs.
 *
 * Operators:
 * - `compare`: < ↔ <=, > ↔ >= (only spaced, so generics are not touched)
 * - `equality`: === ↔ !==, == ↔ !=
 * - `logical`: && ↔ ||, ?? → &&
 * - `arithmetic`: + ↔ - (spaced)
 * - `boolean`: true ↔ false
 * - `negation`: a prefix ! removed
 * - `condition`: the condition of an if / while / ternary replaced by true, then by false
 * - `statement`: a one-line statement (call, assignment, return, continue,
 *   break, throw) removed
 * - `return`: a returned value replaced by undefined
 * - `number`: a number literal ±1 (limits, indexes, bounds)
 * - `string`: a string literal changed (codes, kinds, prefixes)
 */

export interface Mutant {
  /** 1-based line of the change in the original source. */
  line: number
  operator: string
  /** The original text that is replaced, and what replaces it. */
  from: string
  to: string
  /** The whole mutated source. */
  source: string
}

interface Token {
  kind: 'word' | 'number' | 'string' | 'punct'
  text: string
  start: number
  end: number
}

const PUNCT = ['===', '!==', '...', '??=', '&&=', '||=', '=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=', '/=']

/** Tokens of the code outside comments and template literals. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]!
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++
      continue
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2)
      i = end < 0 ? src.length : end + 2
      continue
    }
    if (c === '`') {
      // Template literals are skipped whole (with their ${} parts).
      let depth = 0
      i++
      while (i < src.length) {
        if (src[i] === '\\') i += 2
        else if (depth === 0 && src[i] === '`') break
        else if (src[i] === '$' && src[i + 1] === '{') (depth++, (i += 2))
        else if (depth > 0 && src[i] === '}') (depth--, i++)
        else i++
      }
      i++
      continue
    }
    if (c === "'" || c === '"') {
      const start = i
      i++
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1
      i++
      tokens.push({ kind: 'string', text: src.slice(start, i), start, end: i })
      continue
    }
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (/[A-Za-z_$]/.test(c)) {
      const start = i
      while (i < src.length && /[\w$]/.test(src[i]!)) i++
      tokens.push({ kind: 'word', text: src.slice(start, i), start, end: i })
      continue
    }
    if (/[0-9]/.test(c)) {
      const start = i
      while (i < src.length && /[\w.]/.test(src[i]!)) i++
      tokens.push({ kind: 'number', text: src.slice(start, i), start, end: i })
      continue
    }
    const p = PUNCT.find((s) => src.startsWith(s, i)) ?? c
    tokens.push({ kind: 'punct', text: p, start: i, end: i + p.length })
    i += p.length
  }
  return tokens
}

const SWAPS: Record<string, [string, string][]> = {
  '<': [['compare', '<=']],
  '<=': [['compare', '<']],
  '>': [['compare', '>=']],
  '>=': [['compare', '>']],
  '===': [['equality', '!==']],
  '!==': [['equality', '===']],
  '==': [['equality', '!=']],
  '!=': [['equality', '==']],
  '&&': [['logical', '||']],
  '||': [['logical', '&&']],
  '??': [['logical', '&&']],
  '+': [['arithmetic', '-']],
  '-': [['arithmetic', '+']],
}

/** Characters after which a `!` is a prefix (not a non-null assertion). */
const BEFORE_PREFIX = new Set(['(', '!', '&&', '||', '??', '=', ',', '?', ':', '[', '{', '=>', '===', '!==', 'return'])

function matching(tokens: Token[], open: number): number {
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' }
  const close = pairs[tokens[open]!.text]!
  let depth = 0
  for (let j = open; j < tokens.length; j++) {
    const t = tokens[j]!.text
    if (t === tokens[open]!.text) depth++
    else if (t === close && --depth === 0) return j
  }
  return -1
}

/** Lines that import or re-export: mutating them only breaks loading. */
function skippedLines(src: string): Set<number> {
  const skip = new Set<number>()
  const lines = src.split('\n')
  let inImport = false
  lines.forEach((text, n) => {
    const t = text.trim()
    if (/^(import|export \{|export \* |export type \{)/.test(t)) inImport = !/\bfrom\b|^import '/.test(t) || t.endsWith('{')
    if (inImport || /^(import|export \{|export \* |export type \{)/.test(t) || /^\} from /.test(t)) skip.add(n + 1)
    if (inImport && /\bfrom\b/.test(t)) inImport = false
  })
  return skip
}

const lineOf = (src: string, at: number) => src.slice(0, at).split('\n').length

const transpiler = new Bun.Transpiler({ loader: 'ts' })

function js(source: string): string | undefined {
  try {
    return transpiler.transformSync(source)
  } catch {
    return undefined
  }
}

/** Every mutant of `src` that parses and changes the emitted JavaScript. */
export function generateMutants(src: string): Mutant[] {
  const tokens = tokenize(src)
  const skip = skippedLines(src)
  const raw: Omit<Mutant, 'source'>[] = []
  const edits: { start: number; end: number; to: string }[] = []
  const add = (operator: string, start: number, end: number, to: string) => {
    const line = lineOf(src, start)
    if (skip.has(line)) return
    raw.push({ line, operator, from: src.slice(start, end), to })
    edits.push({ start, end, to })
  }

  tokens.forEach((t, k) => {
    const prev = tokens[k - 1]
    const next = tokens[k + 1]
    if (t.kind === 'punct') {
      const swaps = SWAPS[t.text]
      const spaced = src[t.start - 1] === ' ' && src[t.end] === ' '
      if (swaps && (spaced || !['<', '>', '+', '-'].includes(t.text))) {
        for (const [op, to] of swaps) add(op, t.start, t.end, to)
      }
      if (t.text === '!' && next && (next.kind === 'word' || next.text === '(') && (!prev || BEFORE_PREFIX.has(prev.text))) {
        add('negation', t.start, t.end, '')
      }
      if (t.text === '?' && prev && spaced) {
        // Ternary: the condition is the expression back to the start of the
        // statement or opening bracket; only plain `cond ? a : b` on one line.
        const lineStart = src.lastIndexOf('\n', t.start) + 1
        const before = src.slice(lineStart, t.start)
        const m = /(?:return |= |\(|: |=> )([^?():=]+?) $/.exec(before)
        if (m && !m[1]!.includes(',')) {
          const start = t.start - 1 - m[1]!.length
          add('condition', start, t.start - 1, 'true')
          add('condition', start, t.start - 1, 'false')
        }
      }
    }
    if (t.kind === 'word') {
      if (t.text === 'true') add('boolean', t.start, t.end, 'false')
      if (t.text === 'false') add('boolean', t.start, t.end, 'true')
      if ((t.text === 'if' || t.text === 'while') && next?.text === '(') {
        const close = matching(tokens, k + 1)
        if (close > 0) {
          const start = next.end
          const end = tokens[close]!.start
          add('condition', start, end, 'true')
          add('condition', start, end, 'false')
        }
      }
      if (t.text === 'return' && next && next.text !== '}' && lineOf(src, next.start) === lineOf(src, t.start)) {
        if (!['undefined', 'true', 'false'].includes(next.text)) {
          // The value runs to the end of the statement: the next token on a
          // later line at depth 0, or the closing bracket of the block.
          let depth = 0
          let end = next.start
          for (let j = k + 1; j < tokens.length; j++) {
            const u = tokens[j]!
            if (depth === 0 && (u.text === '}' || u.text === ')' || u.text === ';' || (j > k + 1 && lineOf(src, u.start) > lineOf(src, tokens[j - 1]!.end) && !/^[.?:&|+\-*/,)\]}]/.test(u.text) && !/[,(\[{?:=&|+\-]$/.test(tokens[j - 1]!.text)))) break
            if ('([{'.includes(u.text)) depth++
            if (')]}'.includes(u.text)) depth--
            end = u.end
          }
          add('return', next.start, end, 'undefined')
        }
      }
    }
    if (t.kind === 'number' && /^\d+$/.test(t.text.replaceAll('_', ''))) {
      const n = Number(t.text.replaceAll('_', ''))
      add('number', t.start, t.end, String(n + 1))
      if (n > 0) add('number', t.start, t.end, String(n - 1))
    }
    if (t.kind === 'string' && prev?.text !== 'from' && prev?.text !== 'import' && t.text.length >= 2) {
      const body = t.text.slice(1, -1)
      const q = t.text[0]!
      add('string', t.start, t.end, body === '' ? `${q}mutant${q}` : `${q}${body}_mutant${q}`)
    }
  })

  // Statements removed: one whole line that is a complete statement.
  const lines = src.split('\n')
  let offset = 0
  lines.forEach((text, n) => {
    const start = offset
    offset += text.length + 1
    const t = text.trim()
    const nextLine = (lines.slice(n + 1).find((l) => l.trim() !== '') ?? '').trim()
    if (skip.has(n + 1) || t === '' || t.startsWith('//') || t.startsWith('*') || t.startsWith('/*')) return
    if (/^(const|let|var|type|interface|function|export|import|async|class|case|default|else|\}|\{|\)|\]|\.|\?|:)/.test(t)) return
    if (!/^(return\b|continue\b|break\b|throw\b|[\w$.[\]'"]+\s*(=|\+=|-=|\(|\+\+|--))/.test(t)) return
    if (/[{(\[,=?:&|+\-]$/.test(t) || /^[.?:&|+\-)\]}]/.test(nextLine)) return
    let depth = 0
    for (const ch of t) depth += '([{'.includes(ch) ? 1 : ')]}'.includes(ch) ? -1 : 0
    if (depth !== 0) return
    const indent = text.length - text.trimStart().length
    add('statement', start + indent, start + text.length, t.startsWith('return') || t.startsWith('throw') ? ';' : '')
  })

  const original = js(src)
  const seen = new Set<string>()
  const out: Mutant[] = []
  raw.forEach((m, i) => {
    const e = edits[i]!
    const source = src.slice(0, e.start) + e.to + src.slice(e.end)
    const emitted = js(source)
    if (emitted === undefined || emitted === original || seen.has(emitted)) return
    seen.add(emitted)
    out.push({ ...m, source })
  })
  return out
}
