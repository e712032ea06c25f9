import { expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { readmePath, readmeWithSettings, renderSettings } from './settings-doc.ts'

test('the README documents every setting of every process, as the schemas define them', () => {
  const readme = readFileSync(readmePath, 'utf8')
  expect(readmeWithSettings(readme) === readme).toBe(true) // else: bun infra/settings-doc.ts --write
  for (const name of ['KAFKA_BROKERS', 'JWT_SECRET', 'UPDATER_INDEX', 'API_COUNT', 'DYNAMODB_ENDPOINT']) expect(renderSettings()).toContain(`\`${name}\``)
})
