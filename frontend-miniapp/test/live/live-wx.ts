/**
 * The live layer's wx: FakeWx's storage, modals and toasts, but every wx.request goes over real HTTP (node's http
 * module) to the dev server or its sandbox, and the develop profile points at them. The sandbox plays wx.login
 * (core/sandbox.ts) and the cashier (its simulated-cashier modal: modalAnswers says pay or cancel).
 */
import * as http from 'http';
import { useProfile } from '../../miniprogram/config/index';
import { FakeReply, FakeRequest, FakeWx } from '../fake-wx';
import { liveState } from './state';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export function httpJson(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(
      {
        method,
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers: { ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}), ...headers },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : '';
          } catch {
            // not JSON
          }
          const hs: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v != null) hs[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers: hs, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export interface LiveWx extends FakeWx {
  answers: Array<{ req: FakeRequest; status: number; body: unknown }>;
}

export function installLiveWx(): LiveWx {
  const state = liveState();
  const fake = new FakeWx() as LiveWx;
  fake.answers = [];
  const bridge = async (req: FakeRequest): Promise<FakeReply> => {
    const headers = { ...req.header };
    delete headers['Content-Type'];
    try {
      const body = req.method === 'GET' || req.data === undefined ? undefined : req.data;
      const wireMethod = headers['X-HTTP-Method-Override'] ? 'POST' : req.method;
      const res = await httpJson(wireMethod, req.url, body, headers);
      fake.answers.push({ req, status: res.status, body: res.body });
      return { status: res.status, data: res.body, headers: res.headers };
    } catch (e) {
      return { networkError: (e as Error).message };
    }
  };
  for (const m of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) fake.on(m, /.*/, bridge);
  const g = globalThis as unknown as { wx: Record<string, unknown> };
  g.wx = Object.assign({}, g.wx ?? {}, fake.api());
  useProfile({ env: 'develop', apiBase: state.api, sandboxBase: state.sandbox, subscribeTemplateIds: [] });
  return fake;
}

/** A merchant token for the demo merchant (to find the seeded items and quiz). */
export async function adminToken(username = 'demo-owner'): Promise<string> {
  const s = liveState();
  const res = await httpJson('POST', `${s.api}/admin/login`, { username, password: s.password });
  if (res.status !== 200) throw new Error(`admin login ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { token: string }).token;
}

export async function adminGet<T>(path: string, token: string): Promise<T> {
  const res = await httpJson('GET', `${liveState().api}${path}`, undefined, { Authorization: `Bearer ${token}` });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

export async function userGet<T>(path: string, token: string): Promise<HttpAnswer & { body: T }> {
  return (await httpJson('GET', `${liveState().api}${path}`, undefined, { Authorization: `Bearer ${token}` })) as HttpAnswer & { body: T };
}
