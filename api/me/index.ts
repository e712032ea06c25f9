import { Elysia } from 'elysia'
import { Type } from '@sinclair/typebox'
import { SettingsPutBody } from '../../shared/schemas/settings.ts'
import { auth, bearer, type AuthOptions } from '../auth/index.ts'
import { errors, typed } from '../model.ts'
import { SettingsView } from './model.ts'
import { type MeService } from './service.ts'

const SettingsAccepted = Type.Object({ status: Type.Literal('accepted') }, { additionalProperties: false })

export function me (service: MeService, o: AuthOptions) {
  return new Elysia({ normalize: false, prefix: '/v1/me' })
    .use(auth(o))
    .put('/settings', async ({ userId, body, set }) => {
      await service.putSettings({ userId, body })
      set.status = 202
      return { status: 'accepted' as const }
    }, {
      body: SettingsPutBody,
      response: { 202: SettingsAccepted, ...errors(400, 401, 413, 422, 503) },
      detail: { tags: ['me'], summary: 'Replace my settings (webhook, language, time zone)', ...bearer }
    })
    .get('/settings', ({ userId }) => service.getSettings({ userId }), {
      response: { 200: typed(SettingsView), ...errors(401, 503) },
      detail: { tags: ['me'], summary: 'My settings (the webhook secret is never returned)', ...bearer }
    })
}
