import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import { LiveState, stateFile } from './state';

/** Stops the dev server the setup started (SIGTERM: it drains, then stops PostgreSQL and Redis) and removes its data. */
export default async function teardown(): Promise<void> {
  const child = (globalThis as unknown as { __wxmpServer?: ChildProcess }).__wxmpServer;
  let state: LiveState | null = null;
  try {
    state = JSON.parse(fs.readFileSync(stateFile(), 'utf8')) as LiveState;
  } catch {
    // nothing was started
  }
  if (child && child.exitCode == null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  }
  if (state?.dataDir && child) {
    fs.rmSync(state.dataDir, { recursive: true, force: true });
  }
  fs.rmSync(stateFile(), { force: true });
}
