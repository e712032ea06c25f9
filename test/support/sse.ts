/**
 * A Server-Sent Events reader for tests: opens a stream with fetch and keeps every event and comment
 * line with the time it arrived (Date.now()), as a browser's EventSource would parse them (fields
 * `id`, `event`, `data`; a blank line ends an event; lines starting with `:` are comments).
 */
export interface SseEvent { id?: string, event: string, data: string, at: number }

export class SseReader {
  readonly events: SseEvent[] = []
  readonly comments: string[] = []
  private readonly ctl = new AbortController()
  private done: Promise<void> = Promise.resolve()

  /** Resolves once the response's headers are in; throws unless 200 text/event-stream. */
  async open (url: string, headers: Record<string, string>): Promise<this> {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: this.ctl.signal })
    if (res.status !== 200 || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
      throw new Error(`stream not opened: ${res.status} ${res.headers.get('content-type')} ${await res.text()}`)
    }
    this.done = this.read(res.body!)
    return this
  }

  private async read (body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder()
    let pending = ''
    let current: Omit<SseEvent, 'at'> = { event: 'message', data: '' }
    let hasData = false
    try {
      for await (const chunk of body) {
        pending += decoder.decode(chunk, { stream: true })
        let cut: number
        while ((cut = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, cut).replace(/\r$/, '')
          pending = pending.slice(cut + 1)
          if (line === '') {
            if (hasData) this.events.push({ ...current, at: Date.now() })
            current = { event: 'message', data: '' }
            hasData = false
          } else if (line.startsWith(':')) {
            this.comments.push(line.slice(1).trim())
          } else {
            const colon = line.indexOf(':')
            const field = colon < 0 ? line : line.slice(0, colon)
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
            if (field === 'id') current.id = value
            else if (field === 'event') current.event = value
            else if (field === 'data') { current.data = hasData ? `${current.data}\n${value}` : value; hasData = true }
          }
        }
      }
    } catch {} // aborted by close()
  }

  async close (): Promise<void> {
    this.ctl.abort()
    await this.done
  }
}
