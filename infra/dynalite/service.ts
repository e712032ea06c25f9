import { join } from 'node:path'
import { pollUntil, type ServiceSpec } from '../stack/service.ts'

export function dynaliteService (port: number, dataDir: string): ServiceSpec {
  return {
    name: 'dynalite',
    cmd: [process.execPath, join(import.meta.dir, 'server.ts'), String(port), dataDir],
    restart: true,
    stopTimeoutMs: 5000,
    ready: signal => pollUntil('dynalite', () => dynamoAnswers(`http://127.0.0.1:${port}`), signal)
  }
}

/** True once the endpoint answers a ListTables call (any DynamoDB-shaped answer). */
export async function dynamoAnswers (endpoint: string): Promise<boolean> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.ListTables',
      'x-amz-date': '20200101T000000Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0'
    },
    body: '{}',
    signal: AbortSignal.timeout(3000)
  })
  await res.arrayBuffer()
  return res.status === 200
}
