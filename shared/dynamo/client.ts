import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { Agent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'

export interface DynamoSettingsValues {
  DYNAMODB_ENDPOINT?: string
  AWS_REGION: string
}

/**
 * One DynamoDB client per process. Against a local endpoint (dynalite) it signs with fixed dummy
 * credentials; against AWS the SDK's default credential chain applies. A request past
 * `requestTimeoutMs` fails with a TimeoutError (NodeHttpHandler's requestTimeout alone only logs a
 * warning and keeps waiting: a stalled connection would hang the caller). Callers that run their own
 * retry loop (the updater) pass `maxAttempts: 1`.
 */
export function createDynamoClient (s: DynamoSettingsValues, opts: { requestTimeoutMs?: number, maxAttempts?: number, maxSockets?: number } = {}): DynamoDBDocumentClient {
  const local = s.DYNAMODB_ENDPOINT !== undefined && /^http:\/\/(127\.|localhost)/.test(s.DYNAMODB_ENDPOINT)
  const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 64 }
  const client = new DynamoDBClient({
    region: s.AWS_REGION,
    endpoint: s.DYNAMODB_ENDPOINT,
    maxAttempts: opts.maxAttempts ?? 3,
    ...(local && { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(1000, opts.requestTimeoutMs ?? 3000),
      requestTimeout: opts.requestTimeoutMs ?? 3000,
      throwOnRequestTimeout: true,
      httpAgent: new Agent(agentOpts),
      httpsAgent: new HttpsAgent(agentOpts)
    })
  })
  // Copies: the document client adds its own keys to the options objects it is given.
  return DynamoDBDocumentClient.from(client, { marshallOptions: { ...TRANSLATE.marshallOptions }, unmarshallOptions: { ...TRANSLATE.unmarshallOptions } })
}

/**
 * convertClassInstanceToMap: the marshaller tells a plain object by `value.constructor.name`, so a
 * map with a user's key `constructor` (a trip's shares, granted to the user `constructor`) looks
 * like a class instance and would be refused for good ("Unsupported type"). Every item we write is
 * plain JSON data (TypeBox shapes), so converting any object as a map loses nothing.
 */
export const TRANSLATE = {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  unmarshallOptions: { wrapNumbers: false }
}
