import { Type } from '@sinclair/typebox'
import { SettingsPutBody, Webhook } from '../../shared/schemas/settings.ts'

/** Settings as read back: the webhook without its secret. */
export const SettingsView = Type.Object({
  webhook: Type.Optional(Type.Object({ url: Webhook.properties.url }, { additionalProperties: false })),
  language: SettingsPutBody.properties.language,
  timeZone: SettingsPutBody.properties.timeZone
}, { additionalProperties: false })
