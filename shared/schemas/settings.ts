import { Type, type Static } from '@sinclair/typebox'

export const LANGUAGES = ['en', 'fr', 'de', 'es', 'it', 'pt', 'nl'] as const
export const Language = Type.Union(LANGUAGES.map((l) => Type.Literal(l)))
export type Language = Static<typeof Language>

/** The notifier signs each webhook call with `secret` (HMAC); https only in production is the notifier's call. */
export const Webhook = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^\\s]+$', minLength: 10, maxLength: 2048 }),
    secret: Type.String({ minLength: 16, maxLength: 256 }),
  },
  { additionalProperties: false },
)
export type Webhook = Static<typeof Webhook>

/** IANA zone names look like this; `isTimeZone` checks the zone exists. */
export const TimeZone = Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_+/-]{0,63}$', maxLength: 64 })

/** PUT replaces the whole settings record: an absent field is unset. */
export const SettingsPutBody = Type.Object(
  { webhook: Type.Optional(Webhook), language: Type.Optional(Language), timeZone: Type.Optional(TimeZone) },
  { additionalProperties: false },
)
export type SettingsPutBody = Static<typeof SettingsPutBody>

/** True if the runtime knows the IANA zone (pure: Intl's bundled data). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
