import { existsSync, readFileSync, writeFileSync } from 'node:fs'

/**
 * The pids the stack started, kept on disk so that a stack killed with SIGKILL (no chance to stop its
 * children) has its leftovers stopped by the next start instead of colliding with them on ports.
 */
export function writePids (file: string, pids: number[]): void {
  writeFileSync(file, pids.join('\n') + '\n')
}

export async function killLeftovers (file: string, markers: string[]): Promise<number[]> {
  if (!existsSync(file)) return []
  const pids = readFileSync(file, 'utf8').split('\n').map(Number).filter(n => Number.isInteger(n) && n > 1)
  // Only processes whose command line still names this stack's folder: a recycled pid is left alone.
  const ours = pids.filter(pid => { const c = cmdline(pid); return c !== undefined && markers.some(m => c.includes(m)) })
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

function cmdline (pid: number): string | undefined {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') } catch { return undefined }
}
