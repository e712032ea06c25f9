/**
 * A fault-injecting HTTP proxy on loopback in front of a DynamoDB endpoint (tests only). It
 * forwards each request, records every BatchWriteItem's keys, and, when `fault` says so for a
 * request, answers instead with: a partial batch (forwards half the items and returns the rest
 * as UnprocessedItems), ProvisionedThroughputExceededException, a 5xx, a stall (holds the
 * request past the client's timeout, then drops it unanswered), or a late delivery (holds it
 * past the client's timeout, then forwards it anyway: a write of unknown outcome that lands
 * after the caller gave up, most likely after its retry), or a refusal for good (ValidationException,
 * as DynamoDB answers for an item over 400 KB: nothing of the request is applied). `fault` sees
 * the request's body, so a test can refuse the requests that carry one user's items.
 */
export type Fault = 'pass' | 'partial' | 'throttle' | 'server_error' | 'stall' | 'late' | 'refuse'

export interface ProxyStats {
  requests: number
  batchWrites: number
  faults: Record<Fault, number>
  /** Keys per BatchWriteItem request as forwarded: a repeated key in one request is a bug. */
  duplicateKeysInOneRequest: number
  itemsForwarded: number
}

export class FaultProxy {
  private server: ReturnType<typeof Bun.serve> | undefined
  fault: (target: string, n: number, body: string) => Fault = () => 'pass'
  readonly stats: ProxyStats = { requests: 0, batchWrites: 0, faults: { pass: 0, partial: 0, throttle: 0, server_error: 0, stall: 0, late: 0, refuse: 0 }, duplicateKeysInOneRequest: 0, itemsForwarded: 0 }

  constructor (private readonly target: string, private readonly stallMs = 2500) {}

  get endpoint (): string { return `http://127.0.0.1:${this.server!.port}` }

  start (): void {
    this.server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: req => this.handle(req) })
  }

  stop (): void { this.server?.stop(true) }

  private async handle (req: Request): Promise<Response> {
    const target = (req.headers.get('x-amz-target') ?? '').split('.').pop() ?? ''
    const n = this.stats.requests++
    let body = await req.text()
    const fault = this.fault(target, n, body)
    this.stats.faults[fault]++
    const json = (status: number, type: string, message: string) => new Response(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }), { status, headers: { 'content-type': 'application/x-amz-json-1.0' } })
    if (fault === 'throttle') return json(400, 'ProvisionedThroughputExceededException', 'injected throttling')
    if (fault === 'server_error') return json(500, 'InternalServerError', 'injected 5xx')
    if (fault === 'refuse') return json(400, 'ValidationException', 'Item size has exceeded the maximum allowed size (injected)')
    if (fault === 'stall') {
      await Bun.sleep(this.stallMs)
      return json(500, 'InternalServerError', 'stalled')
    }
    if (fault === 'late') await Bun.sleep(this.stallMs)
    let unprocessed: Record<string, unknown[]> | undefined
    if (target === 'BatchWriteItem') {
      const parsed = JSON.parse(body) as { RequestItems: Record<string, Array<{ PutRequest?: { Item: Record<string, { S?: string }> } }>> }
      if (fault === 'partial') {
        unprocessed = {}
        for (const [table, list] of Object.entries(parsed.RequestItems)) {
          const keep = Math.ceil(list.length / 2)
          unprocessed[table] = list.slice(keep)
          parsed.RequestItems[table] = list.slice(0, keep)
        }
        body = JSON.stringify(parsed)
      }
      this.stats.batchWrites++
      for (const list of Object.values(parsed.RequestItems)) {
        const keys = new Set(list.map(w => `${w.PutRequest?.Item.pk?.S}|${w.PutRequest?.Item.sk?.S}`))
        if (keys.size !== list.length) this.stats.duplicateKeysInOneRequest++
        this.stats.itemsForwarded += list.length
      }
    }
    const headers = new Headers(req.headers)
    headers.delete('content-length')
    headers.delete('host')
    // Unless told to deliver it late, a caller that gave up (its request timed out) is not
    // forwarded any further: the proxy stands for the network, and a request the server never
    // finished receiving is never applied.
    if (fault !== 'late' && req.signal.aborted) return json(500, 'InternalServerError', 'caller gone')
    let res: Response
    let text: string
    try {
      res = await fetch(this.target, { method: 'POST', headers, body, signal: fault === 'late' ? undefined : req.signal })
      text = await res.text()
    } catch (err) {
      // The server closed a kept-alive connection under the proxy (or the caller left): to the
      // caller that is a failed request, as a load balancer answers it, never a crash of the test.
      if (req.signal.aborted) return json(500, 'InternalServerError', 'caller gone')
      return json(502, 'InternalServerError', `upstream: ${(err as Error).message}`)
    }
    if (!unprocessed || res.status !== 200) return new Response(text, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/x-amz-json-1.0' } })
    const out = JSON.parse(text) as { UnprocessedItems?: Record<string, unknown[]> }
    out.UnprocessedItems = unprocessed
    return new Response(JSON.stringify(out), { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' } })
  }
}
