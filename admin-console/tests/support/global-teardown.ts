import { existsSync, readFileSync, rmSync } from 'node:fs'
import { stateFile } from './global-setup'

/** SIGTERM lets the server stop PostgreSQL and Redis itself; then its temporary folder goes. */
export default async function globalTeardown() {
  if (!existsSync(stateFile)) return
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number; dataDir: string }
  rmSync(stateFile)
  try {
    process.kill(state.pid, 'SIGTERM')
  } catch {
    return
  }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    try {
      process.kill(state.pid, 0)
    } catch {
      break
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  try {
    process.kill(state.pid, 'SIGKILL')
  } catch {
    // already gone
  }
  rmSync(state.dataDir, { recursive: true, force: true })
}
