/**
 * Starts a dev-mode wxmp server for the live tests: free ports, a temporary data dir, the jar built by Maven if it is
 * missing. Or uses one already running when WXMP_LIVE_API, WXMP_LIVE_SANDBOX and WXMP_LIVE_ADMIN_PASSWORD are set.
 * What the tests need (URLs, the demo password, which features the server has) goes to a JSON file they read.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { LiveState, stateFile } from './state';

const REPO = path.resolve(__dirname, '../../..');
const JAR = path.join(REPO, 'server/target/wxmp-dev.jar');
const START_TIMEOUT_MS = 240_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function buildJar(): void {
  if (fs.existsSync(JAR)) return;
  console.log('[live] server/target/wxmp-dev.jar is missing: building it (mvn -DskipTests package)');
  for (const offline of [['-o'], []]) {
    const r = spawnSync('mvn', ['-B', '-q', ...offline, '-DskipTests', 'package'], { cwd: REPO, stdio: 'inherit' });
    if (r.status === 0 && fs.existsSync(JAR)) return;
  }
  throw new Error('could not build server/target/wxmp-dev.jar');
}

async function probe(url: string, token: string): Promise<boolean> {
  try {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    return res.status !== 404;
  } catch {
    return false;
  }
}

async function features(api: string, sandbox: string): Promise<LiveState['features']> {
  const user = (await (await fetch(`${sandbox}/sandbox/users`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).json()) as { code: string };
  const login = (await (await fetch(`${api}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code: user.code }) })).json()) as { token: string };
  return {
    feed: await probe(`${api}/feed?limit=1`, login.token),
    items: await probe(`${api}/items?limit=1`, login.token),
    events: await (async () => {
      const res = await fetch(`${api}/events`, { method: 'POST', headers: { Authorization: `Bearer ${login.token}`, 'Content-Type': 'application/json' }, body: '{"events":[]}' });
      return res.status !== 404;
    })(),
    meItems: await probe(`${api}/me/items?limit=1`, login.token),
    quizList: await probe(`${api}/quizzes?limit=1`, login.token),
  };
}

export default async function setup(): Promise<void> {
  if (process.env.WXMP_LIVE_API && process.env.WXMP_LIVE_SANDBOX && process.env.WXMP_LIVE_ADMIN_PASSWORD) {
    const api = process.env.WXMP_LIVE_API.replace(/\/+$/, '');
    const sandbox = process.env.WXMP_LIVE_SANDBOX.replace(/\/+$/, '');
    const state: LiveState = { api, sandbox, password: process.env.WXMP_LIVE_ADMIN_PASSWORD, pid: null, dataDir: null, features: await features(api, sandbox) };
    fs.writeFileSync(stateFile(), JSON.stringify(state));
    return;
  }
  buildJar();
  const [http, sandboxPort, redis] = [await freePort(), await freePort(), await freePort()];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wxmp-miniapp-live-'));
  const java = process.env.JAVA ?? (process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin/java') : 'java');
  const child: ChildProcess = spawn(java, ['-Xmx1g', '--add-modules', 'jdk.incubator.vector', '-jar', JAR], {
    cwd: REPO,
    env: {
      ...process.env,
      WXMP_MODE: 'dev',
      WXMP_HTTP_HOST: '127.0.0.1',
      WXMP_HTTP_PORT: String(http),
      WXMP_MANAGEMENT_PORT: '0',
      WXMP_HTTP_INSTANCES: '2',
      WXMP_SANDBOX_PORT: String(sandboxPort),
      WXMP_DEV_REDIS_PORT: String(redis),
      WXMP_DATA_DIR: dataDir,
      WXMP_RANKING_BACKEND: 'cpu',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = fs.createWriteStream(path.join(dataDir, 'server.log'));
  let out = '';
  const password = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the dev server did not start in ${START_TIMEOUT_MS / 1000} s; log: ${dataDir}/server.log\n${out.slice(-3000)}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      out += chunk.toString();
      const m = /Admin .*password: (\S+)/.exec(out);
      if (m && out.includes('wxmp is running')) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the dev server exited (${code}) before it was ready:\n${out.slice(-3000)}`));
    });
  });
  child.removeAllListeners('exit');
  (globalThis as unknown as { __wxmpServer: ChildProcess }).__wxmpServer = child;
  const api = `http://127.0.0.1:${http}/api/v1`;
  const sandbox = `http://127.0.0.1:${sandboxPort}`;
  const state: LiveState = { api, sandbox, password, pid: child.pid ?? null, dataDir, features: await features(api, sandbox) };
  fs.writeFileSync(stateFile(), JSON.stringify(state));
  console.log(`\n[live] dev server on ${api} (sandbox ${sandbox}); features ${JSON.stringify(state.features)}`);
}
