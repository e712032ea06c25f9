import { DescribeTableCommand } from '@aws-sdk/client-dynamodb'
import { type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'

/** Readiness check: the table answers and is ACTIVE. Cached briefly so probes stay cheap. */
export function tableReachable (db: DynamoDBDocumentClient, table: string, cacheMs = 1000): () => Promise<boolean> {
  let last = 0
  let ok = false
  return async () => {
    if (performance.now() - last < cacheMs) return ok
    try {
      ok = (await db.send(new DescribeTableCommand({ TableName: table }))).Table?.TableStatus === 'ACTIVE'
    } catch {
      ok = false
    }
    last = performance.now()
    return ok
  }
}
