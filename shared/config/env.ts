import { type TObject, type Static, type TProperties } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'

/** A configuration problem, raised at start: names the variable and what was expected. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor (readonly variable: string, readonly expected: string, readonly got: string | undefined) {
    super(got === undefined
      ? `${variable} is required: expected ${expected}`
      : `${variable} is invalid: expected ${expected}, got ${JSON.stringify(got)}`)
    this.name = 'ConfigError'
  }
}

/**
 * Reads a schema's properties from environment variables: each property name IS the variable name,
 * its `default` applies when unset, strings are converted to the schema's number/boolean/JSON types.
 * Unknown variables are ignored (the environment holds far more than ours).
 */
export function loadEnv<P extends TProperties> (schema: TObject<P>, env: Record<string, string | undefined> = process.env): Static<TObject<P>> {
  const raw: Record<string, unknown> = {}
  for (const [name, prop] of Object.entries(schema.properties)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    raw[name] = parseValue(name, value, prop as { type?: string, description?: string })
  }
  const withDefaults = Value.Default(schema, raw) as Record<string, unknown>
  const converted = Value.Convert(schema, withDefaults)
  const check = compiled(schema as unknown as TObject)
  if (!check.Check(converted)) {
    const first = check.Errors(converted).First()!
    const name = first.path.split('/')[1] ?? first.path
    const prop = schema.properties[name] as { description?: string } | undefined
    throw new ConfigError(name, describeExpected(prop, first.message), env[name])
  }
  return converted as Static<TObject<P>>
}

function parseValue (name: string, value: string, prop: { type?: string, description?: string }): unknown {
  if (prop.type === 'object' || prop.type === 'array') {
    try { return JSON.parse(value) } catch { throw new ConfigError(name, `JSON (${prop.description ?? prop.type})`, value) }
  }
  return value
}

function describeExpected (prop: { description?: string } | undefined, message: string): string {
  return prop?.description ? `${prop.description} (${message.toLowerCase()})` : message.toLowerCase()
}

const cache = new WeakMap<TObject, ReturnType<typeof TypeCompiler.Compile>>()
function compiled (schema: TObject) {
  let c = cache.get(schema)
  if (!c) { c = TypeCompiler.Compile(schema); cache.set(schema, c) }
  return c
}

/**
 * Loads config or stops the process with one clear line naming the variable. `check` may throw a
 * ConfigError for rules across variables.
 */
export function loadEnvOrExit<P extends TProperties> (schema: TObject<P>, env: Record<string, string | undefined> = process.env, check: (s: Static<TObject<P>>) => void = () => {}): Static<TObject<P>> {
  try {
    const s = loadEnv(schema, env)
    check(s)
    return s
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(JSON.stringify({ level: 'fatal', msg: 'config_invalid', variable: err.variable, error: err.message }) + '\n')
      process.exit(78) // EX_CONFIG
    }
    throw err
  }
}
