export interface HaproxyOptions {
  port: number
  statsPort: number
  /** API processes' ports on 127.0.0.1. */
  backends: number[]
  /** The API's readiness path, used by the health checks. */
  healthPath: string
  /** Limits per client address and the slots of each API process; defaults: HAPROXY_LIMITS. */
  limits?: Partial<HaproxyLimits>
}

export interface HaproxyLimits {
  /** Connections one client address may hold open at once (more are refused at accept). */
  connPerIp: number
  /** New connections one client address may open per 10 s. */
  connRatePerIp: number
  /** Requests one client address may send per 10 s (past it: 429 from HAProxy). */
  reqRatePerIp: number
  /** Requests in progress per API process (more wait in the queue, up to `timeout queue`). */
  requestSlots: number
  /** Notification streams per API process, in their own backend: streams never take request slots. */
  streamSlots: number
}

/**
 * Defaults for the local stack: generous per address (an address may be a NAT of many users, and
 * the benchmark drives everything from 127.0.0.1); the API's per-user limits are the fine ones.
 */
export const HAPROXY_LIMITS: HaproxyLimits = { connPerIp: 500, connRatePerIp: 1000, reqRatePerIp: 50_000, requestSlots: 512, streamSlots: 2000 }

/** The path of the notification stream (Server-Sent Events): routed to its own backend. */
export const STREAM_PATH = '/v1/notifications/stream'

const json = (code: string, message: string) => `'${JSON.stringify({ error: { code, message, details: [] } })}'`

/**
 * The health check that keeps an API process in the pool: its readiness without the checks of
 * what every process shares (api/main.ts: kafka, dynamodb, notifications). A slow DynamoDB or a
 * Kafka outage then degrades the requests that need them (503 with Retry-After, from the API)
 * instead of emptying the pool; a process that is down, starting or draining still leaves it.
 */
export const API_POOL_CHECK = '/readyz?exclude=kafka,dynamodb,notifications'

/**
 * HAProxy in front of the API processes: leastconn, health checks on readiness (a process that is
 * down or draining leaves the pool within ~1 s), timeouts inside the 800 ms budget where it matters,
 * a stats page on loopback. `-db` keeps it in the foreground under the supervisor.
 *
 * Admission (issue 13): `option http-buffer-request` makes HAProxy hold a request until its body
 * is complete, so `timeout http-request` covers headers AND body (HAProxy 2.6 docs, "timeout
 * http-request"): a client sending its body a byte a second is answered 408 here and never holds
 * an API slot (a body larger than HAProxy's buffer, 16 kB, is forwarded once the buffer is full;
 * the API's own BODY_READ_TIMEOUT_MS covers the rest). Per client address (a stick table keyed by
 * the source): at most `connPerIp` open connections and `connRatePerIp` new ones per 10 s (refused
 * at accept), `reqRatePerIp` requests per 10 s (429). Notification streams go to their own
 * backend with their own slots per process, so streams cannot take request slots. `option
 * forwardfor` appends the client's address to X-Forwarded-For (the API trusts the last entry from
 * its TRUSTED_PROXIES only). `/metrics` is not served on the public frontend: Prometheus scrapes
 * each process on its own port, and HAProxy's own metrics are on the stats port.
 */
export function haproxyConfig (o: HaproxyOptions): string {
  const l = { ...HAPROXY_LIMITS, ...o.limits }
  const servers = o.backends.map((p, i) =>
    `    server api-${i + 1} 127.0.0.1:${p} check inter 500ms fall 2 rise 2 maxconn ${l.requestSlots}`).join('\n')
  // Stream servers follow the health of the request servers (one check per process, not two).
  const streamServers = o.backends.map((p, i) =>
    `    server api-${i + 1} 127.0.0.1:${p} track api_processes/api-${i + 1} maxconn ${l.streamSlots}`).join('\n')
  return `global
    # Stays under the usual 20k open-files limit of a session (HAProxy needs ~2 fds a connection).
    maxconn 8000
    log stdout format raw local0 notice

defaults
    mode http
    log global
    option httplog
    option http-keep-alive
    option redispatch
    retries 2
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    # Headers and (with http-buffer-request) the body must arrive within this.
    timeout http-request 5s
    timeout http-keep-alive 10s
    timeout queue 2s
    # Server-Sent Events streams stay open: tunnel timeout covers idle upgraded/streamed connections.
    timeout tunnel 1h

frontend api
    bind 127.0.0.1:${o.port}
    option http-buffer-request
    option forwardfor
    stick-table type ipv6 size 200k expire 30s store conn_cur,conn_rate(10s),http_req_rate(10s)
    tcp-request connection track-sc0 src
    tcp-request connection reject if { sc0_conn_cur gt ${l.connPerIp} } || { sc0_conn_rate gt ${l.connRatePerIp} }
    http-request return status 429 content-type application/json hdr retry-after 10 string ${json('rate_limited', 'too many requests from this address; retry later')} if { sc0_http_req_rate gt ${l.reqRatePerIp} }
    http-request return status 404 content-type application/json string ${json('not_found', 'no such route')} if { path,url_dec -m beg -i /metrics }
    use_backend api_streams if { path ${STREAM_PATH} }
    default_backend api_processes

backend api_processes
    balance leastconn
    option httpchk GET ${o.healthPath}
    http-check expect status 200
    default-server on-marked-down shutdown-sessions
${servers}

backend api_streams
    balance leastconn
    default-server on-marked-down shutdown-sessions
${streamServers}

frontend stats
    bind 127.0.0.1:${o.statsPort}
    stats enable
    stats uri /
    stats refresh 5s
    http-request use-service prometheus-exporter if { path /metrics }
`
}
