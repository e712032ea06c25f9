export interface HaproxyOptions {
  port: number
  statsPort: number
  /** API processes' ports on 127.0.0.1. */
  backends: number[]
  /** The API's readiness path, used by the health checks. */
  healthPath: string
}

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
 */
export function haproxyConfig (o: HaproxyOptions): string {
  const servers = o.backends.map((p, i) =>
    `    server api-${i + 1} 127.0.0.1:${p} check inter 500ms fall 2 rise 2 maxconn 512`).join('\n')
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
    timeout http-request 5s
    timeout http-keep-alive 10s
    timeout queue 2s
    # Server-Sent Events streams stay open: tunnel timeout covers idle upgraded/streamed connections.
    timeout tunnel 1h

frontend api
    bind 127.0.0.1:${o.port}
    default_backend api_processes

backend api_processes
    balance leastconn
    option httpchk GET ${o.healthPath}
    http-check expect status 200
    default-server on-marked-down shutdown-sessions
${servers}

frontend stats
    bind 127.0.0.1:${o.statsPort}
    stats enable
    stats uri /
    stats refresh 5s
    http-request use-service prometheus-exporter if { path /metrics }
`
}
