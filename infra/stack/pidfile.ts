import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'

/**
 * The pids the stack started (its own first), kept on disk so that the leftovers of a stack killed
 * with SIGKILL (no chance to stop its children) are stopped by the next start instead of colliding
 * with it on ports. A stack that is still alive is never touched: the new start refuses instead.
 */
export function writePids (file: string, pids: number[]): void {
  writeFileSync(file, pids.join('\n') + '\n')
}

export class StackRunningError extends Error {
  constructor (readonly pid: number, dataDir: string) {
    super(`a stack is already running on ${dataDir} (pid ${pid}): stop it first (Ctrl-C in its terminal, or kill -TERM ${pid})`)
    this.name = 'StackRunningError'
  }
}

/** Stops the orphans of a dead stack; throws StackRunningError if that stack still runs. */
export async function killLeftovers (file: string, dataDir: string, repoRoot: string): Promise<number[]> {
  if (!existsSync(file)) return []
  const [owner, ...children] = readFileSync(file, 'utf8').split('\n').map(Number).filter(n => Number.isInteger(n) && n > 1)
  if (owner !== undefined && owner !== process.pid && isOurs(owner, dataDir, repoRoot) && cmdline(owner)?.includes('infra/stack/main.ts')) {
    throw new StackRunningError(owner, dataDir)
  }
  // Only processes that are still ours: a recycled pid is left alone.
  const ours = children.filter(pid => isOurs(pid, dataDir, repoRoot))
  for (const pid of ours) try { process.kill(pid, 'SIGTERM') } catch {}
  const deadline = Date.now() + 15_000
  while (ours.some(alive) && Date.now() < deadline) await Bun.sleep(100)
  for (const pid of ours.filter(alive)) try { process.kill(pid, 'SIGKILL') } catch {}
  writePids(file, [])
  return ours
}

export function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch { return false }
}

/** Started from this checkout (its working directory) or naming this stack's data folder. */
function isOurs (pid: number, dataDir: string, repoRoot: string): boolean {
  const c = cmdline(pid)
  if (c === undefined) return false
  let cwd: string | undefined
  try { cwd = readlinkSync(`/proc/${pid}/cwd`) } catch {}
  return c.includes(dataDir) || cwd === repoRoot
}

export function cmdline (pid: number): string | undefined {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') } catch { return undefined }
}
