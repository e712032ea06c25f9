import { type Static } from '@sinclair/typebox'
import { isTimeZone, type SettingsPutBody } from '../../shared/schemas/settings.ts'
import { type Commands } from '../commands.ts'
import { invalidField } from '../errors.ts'
import { type Store } from '../store.ts'
import { type SettingsView } from './model.ts'

export class MeService {
  constructor (private readonly store: Store, private readonly commands: Commands) {}

  /** PUT replaces the whole settings record (an absent field is unset). */
  async putSettings ({ userId, body }: { userId: string, body: SettingsPutBody }): Promise<void> {
    if (body.timeZone !== undefined && !isTimeZone(body.timeZone)) throw invalidField('body.timeZone', 'unknown_time_zone', 'not an IANA time zone')
    await this.commands.send(this.commands.build('settings.put', userId, userId, body))
  }

  /** The stored settings; the webhook secret never leaves the server. */
  async getSettings ({ userId }: { userId: string }): Promise<Static<typeof SettingsView>> {
    const s = await this.store.settings(userId)
    const out: Static<typeof SettingsView> = {}
    if (s?.webhook) out.webhook = { url: s.webhook.url }
    if (s?.language) out.language = s.language
    if (s?.timeZone) out.timeZone = s.timeZone
    return out
  }
}
