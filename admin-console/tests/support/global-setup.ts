// Starts the real server in dev mode (embedded PostgreSQL and Redis, the WeChat sandbox) on free ports in a
// temporary folder, reads the demo password from its banner, and hands the URLs to the tests through the
// environment. Builds the jar with Maven first when it is missing.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const repo = resolve(here, '../../..')
export const stateFile = join(tmpdir(), `wxmp-console-e2e-${process.ppid}.json`)

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer()
    s.once('error', fail)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => ok(port))
    })
  })
}

export default async function globalSetup() {
  if (process.env.WXMP_E2E_API) return // an already running server (see README)
  const jar = join(repo, 'server/target/wxmp-dev.jar')
  if (!existsSync(jar)) {
    const built = spawnSync('mvn', ['-B', '-q', '-DskipTests', 'package'], { cwd: repo, stdio: 'inherit' })
    if (built.status !== 0) throw new Error('mvn package failed; the browser tests need server/target/wxmp-dev.jar')
  }
  const [http, sandbox, redis] = [await freePort(), await freePort(), await freePort()]
  const dataDir = mkdtempSync(join(tmpdir(), 'wxmp-console-e2e-'))
  const log = join(dataDir, 'server.log')
  // the feed-token key set by hand, so the tests can sign the tokens that the feed would have served
  const tokenKey = randomBytes(32).toString('base64')
  const child = spawn('java', ['--add-modules', 'jdk.incubator.vector', '-jar', jar], {
    cwd: dataDir,
    env: {
      ...process.env, WXMP_MODE: 'dev', WXMP_HTTP_HOST: '127.0.0.1', WXMP_HTTP_PORT: String(http), WXMP_MANAGEMENT_PORT: '0',
      WXMP_SANDBOX_PORT: String(sandbox),
      WXMP_DEV_REDIS_PORT: String(redis), WXMP_DATA_DIR: join(dataDir, 'data'), WXMP_HTTP_INSTANCES: '1',
      WXMP_PAY_RECONCILE_INTERVAL_SEC: '5', WXMP_PAY_RECONCILE_AFTER_SEC: '60', WXMP_FEED_TOKEN_KEY: tokenKey,
    },
    // the server's output goes to a file (a pipe nobody reads would fill and block it)
    stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
  })
  const output = () => (existsSync(log) ? readFileSync(log, 'utf8') : '')
  const password = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the dev server did not start in 180 s:\n${output().slice(-4000)}`)), 180_000)
    child.on('exit', (code) => fail(new Error(`the dev server exited (${code}):\n${output().slice(-4000)}`)))
    const poll = setInterval(() => {
      const m = /Admin\s+demo-owner.*password:\s+(\S+)/.exec(output())
      if (m) {
        clearInterval(poll)
        clearTimeout(timer)
        ok(m[1])
      }
    }, 100)
  })
  const state = {
    pid: child.pid, dataDir, log, api: `http://127.0.0.1:${http}`, sandbox: `http://127.0.0.1:${sandbox}`, password,
  }
  writeFileSync(stateFile, JSON.stringify(state))
  process.env.WXMP_E2E_API = state.api
  process.env.WXMP_E2E_SANDBOX = state.sandbox
  process.env.WXMP_E2E_PASSWORD = password
  process.env.WXMP_E2E_TOKEN_KEY = tokenKey
  child.unref()
}
