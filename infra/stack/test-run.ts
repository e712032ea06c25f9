import { type Logger } from '../../shared/log/logger.ts'
import { repoRoot } from './stack.ts'

/** Folders whose `*.test.ts` files make up the suite. */
const suiteRoots = ['shared', 'api', 'updater', 'notifier', 'infra', 'bench', 'test']

/**
 * Runs bun test against the running stack, echoing its output, and ends with the line
 * `tests: N passed, N failed` read from bun's own summary (which it prints on stderr).
 */
export async function runTests (args: string[], env: Record<string, string>, log: Logger): Promise<number> {
  const targets = args.length > 0 ? args : suiteRoots.map(r => `./${r}/`)
  log.info('tests_starting', { targets })
  const proc = Bun.spawn([process.execPath, 'test', '--timeout', '180000', ...targets], {
    cwd: repoRoot,
    env: { ...process.env, ...env, ROAD_WARRIOR_TEST_STACK: '1' },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe'
  })
  const summary = { pass: undefined as number | undefined, fail: undefined as number | undefined }
  const scan = (text: string) => {
    for (const line of text.split('\n')) {
      const m = /^\s*(\d+) (pass|fail)\s*$/.exec(line)
      if (m) summary[m[2] as 'pass' | 'fail'] = Number(m[1])
    }
  }
  await Promise.all([tee(proc.stdout, process.stdout, scan), tee(proc.stderr, process.stderr, scan)])
  const code = await proc.exited
  const passed = summary.pass ?? 0
  // No summary at all means bun test itself broke: count that as a failure, never as green.
  const failed = summary.fail ?? (code === 0 ? 0 : 1)
  process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`)
  return code !== 0 || failed > 0 || passed === 0 ? (code || 1) : 0
}

async function tee (stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream, scan: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder()
  let pending = ''
  for await (const chunk of stream) {
    out.write(chunk)
    pending += decoder.decode(chunk, { stream: true })
    const cut = pending.lastIndexOf('\n')
    if (cut >= 0) { scan(pending.slice(0, cut)); pending = pending.slice(cut + 1) }
  }
  scan(pending)
}
