import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { LIMIT_CODES, LIMITS } from '../shared/domain/limits.ts'
import { isTimeZone, type Language } from '../shared/schemas/settings.ts'
import { STATUS_CHANGES, type StatusEvent } from '../shared/schemas/status-event.ts'
import en from './messages/en.json'
import fr from './messages/fr.json'

/**
 * Notification text, from the resource files in `notifier/messages/<language>.json`:
 * `locale` (a BCP 47 tag for Intl), one template per status change, and one sentence per limit
 * code saying why a command was refused (`rejections`, shown as {rejection} in the `rejected`
 * template; {limit} in it is the limit's value). Templates may use {title}, {start}, {end},
 * {previousStart}, {previousEnd}, {rejection}; times are written in the user's time zone
 * (settings.timeZone, UTC when unset or unknown) with the zone's short name. A language without
 * a file falls back to English. Every file is checked once, when this module loads.
 */

export const PLACEHOLDERS = ['title', 'start', 'end', 'previousStart', 'previousEnd', 'rejection'] as const
const REJECTION_PLACEHOLDERS = ['limit'] as const

/** The limit behind each code, for {limit}. */
const LIMIT_OF_CODE = new Map<string, number>(Object.entries(LIMIT_CODES).map(([name, code]) => [code, LIMITS[name as keyof typeof LIMITS]]))

const MessageFile = Type.Object(
  {
    locale: Type.String({ minLength: 2 }),
    changes: Type.Object(Object.fromEntries(STATUS_CHANGES.map((c) => [c, Type.String({ minLength: 1, maxLength: 300 })])), { additionalProperties: false }),
    rejections: Type.Object(Object.fromEntries(Object.values(LIMIT_CODES).map((c) => [c, Type.String({ minLength: 1, maxLength: 200 })])), { additionalProperties: false }),
  },
  { additionalProperties: false },
)
type MessageFile = Static<typeof MessageFile>
const check = TypeCompiler.Compile(MessageFile)

export function validateMessages(name: string, file: unknown): MessageFile {
  if (!check.Check(file)) {
    const e = check.Errors(file).First()
    throw new Error(`notifier/messages/${name}.json: ${e?.path || '/'} ${e?.message}`)
  }
  const checkPlaceholders = (entries: Record<string, string>, known: readonly string[]) => {
    for (const [key, template] of Object.entries(entries)) {
      for (const [, p] of template.matchAll(/\{(\w+)\}/g)) {
        if (!known.includes(p!)) throw new Error(`notifier/messages/${name}.json: ${key} uses unknown placeholder {${p}}`)
      }
    }
  }
  checkPlaceholders(file.changes, PLACEHOLDERS)
  checkPlaceholders(file.rejections, REJECTION_PLACEHOLDERS)
  new Intl.DateTimeFormat(file.locale) // throws on a malformed locale
  return file
}

export const MESSAGES: Partial<Record<Language, MessageFile>> = {
  en: validateMessages('en', en),
  fr: validateMessages('fr', fr),
}

const formatters = new Map<string, Intl.DateTimeFormat>()
function formatter(locale: string, timeZone: string): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}`
  let f = formatters.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' })
    formatters.set(key, f)
  }
  return f
}

const MAX_MESSAGE = 500

/** The message for an event, in the user's language and time zone. */
export function renderMessage(event: Pick<StatusEvent, 'change' | 'current' | 'previous' | 'rejection'>, user: { language?: Language; timeZone?: string } = {}): string {
  // Own entries only: the stored language is checked by the API, but a stray `constructor` must not find Object's.
  const file = (user.language && Object.hasOwn(MESSAGES, user.language) && MESSAGES[user.language]) || MESSAGES.en!
  const zone = user.timeZone && isTimeZone(user.timeZone) ? user.timeZone : 'UTC'
  const time = (iso: string | undefined) => (iso ? formatter(file.locale, zone).format(new Date(iso)) : '')
  const values: Record<(typeof PLACEHOLDERS)[number], string> = {
    title: event.current.title,
    start: time(event.current.startsAt),
    end: time(event.current.endsAt),
    previousStart: time(event.previous?.startsAt),
    previousEnd: time(event.previous?.endsAt),
    rejection: rejectionText(file, event.rejection?.code),
  }
  const template = file.changes[event.change]!
  const text = template.replace(/\{(\w+)\}/g, (_, p: keyof typeof values) => values[p] ?? '')
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`
}

/** Why a command was refused, in the file's language ('' for no rejection or an unknown code). */
function rejectionText(file: MessageFile, code: string | undefined): string {
  if (code === undefined || !Object.hasOwn(file.rejections, code)) return ''
  return file.rejections[code]!.replace(/\{limit\}/g, String(LIMIT_OF_CODE.get(code) ?? ''))
}
