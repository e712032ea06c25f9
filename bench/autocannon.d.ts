/** The part of autocannon 9's API the bench uses (the package ships no types). */
declare module 'autocannon' {
  export interface RequestParams { method?: string, path?: string, headers?: Record<string, string>, body?: string | Buffer }
  export interface RequestSpec extends RequestParams { setupRequest?: (req: RequestParams, context: Record<string, unknown>) => RequestParams }
  interface Options {
    url: string
    connections?: number
    duration?: number
    amount?: number
    overallRate?: number
    connectionRate?: number
    timeout?: number
    pipelining?: number
    method?: string
    headers?: Record<string, string>
    body?: string
    requests?: RequestSpec[]
  }
  interface Histo { average: number, mean: number, stddev: number, min: number, max: number, total: number, p50: number, p90: number, p99: number, p99_9: number, [k: string]: number }
  interface Result {
    requests: Histo
    latency: Histo
    throughput: Histo
    errors: number
    timeouts: number
    non2xx: number
    duration: number
    statusCodeStats: Record<string, { count: number }>
  }
  interface Instance extends PromiseLike<Result> {
    on (event: 'tick', f: (t: { counter: number, bytes: number }) => void): void
    on (event: string, f: (...args: unknown[]) => void): void
    stop (): void
  }
  function autocannon (opts: Options): Instance
  export default autocannon
}
