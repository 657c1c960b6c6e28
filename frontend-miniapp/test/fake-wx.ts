/**
 * A scripted `wx` for unit and page tests. miniprogram-simulate's own wx.request always answers 200 {} and its
 * storage stores nothing, so a test relying on them passes for the wrong reason: this one has real in-memory storage,
 * routes a test scripts per method and path, a log of every request, and fakes for login, payment, modals and toasts.
 */
import { useProfile } from '../miniprogram/config/index';

export interface FakeRequest {
  method: string;
  url: string;
  path: string;
  query: Record<string, string>;
  data: unknown;
  header: Record<string, string>;
  auth: string | null;
}

export type FakeReply =
  | { status: number; data?: unknown; headers?: Record<string, string> }
  | { networkError: string };

export type Handler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export const API_BASE = 'http://api.test/api/v1';
export const SANDBOX_BASE = 'http://sandbox.test';

/** Lets queued promise callbacks (answers, chained awaits) run; works with real and fake timers. */
export async function flush(times = 20): Promise<void> {
  for (let i = 0; i < times; i++) {
    await Promise.resolve();
  }
}

export class FakeWx {
  readonly storage = new Map<string, unknown>();
  readonly requests: FakeRequest[] = [];
  readonly toasts: string[] = [];
  readonly modals: Array<{ title?: string; content?: string }> = [];
  readonly navigations: string[] = [];
  readonly aborted: FakeRequest[] = [];
  /** What the next showModal answers: true = confirm. */
  modalAnswers: boolean[] = [];
  /** What wx.requestPayment does: 'success', 'cancel' or another errMsg to fail with. */
  payment: 'success' | 'cancel' | string = 'success';
  payments: unknown[] = [];
  platform = 'android';
  envVersion = 'develop';
  pullDownStops = 0;
  subscribeRequests: string[][] = [];
  privacyHandler: ((resolve: (r: { event: string; buttonId?: string }) => void) => void) | null = null;
  private routes: Array<{ method: string; path: string | RegExp; handler: Handler }> = [];
  private seq = 0;

  constructor() {
    // Defaults: the sandbox hands out codes, login answers a fresh token for each code.
    this.on('POST', '/sandbox/users', () => {
      this.seq += 1;
      return { status: 201, data: { openid: 'dev-openid', code: `code-${this.seq}`, phoneCode: `phone-${this.seq}` } };
    });
    this.on('POST', '/api/v1/auth/login', (req) => {
      const code = (req.data as { code: string }).code;
      return {
        status: 200,
        data: { token: `tok-${code}`, expiresIn: 604800, user: { id: 'u1', nickname: null, avatarUrl: null, phoneBound: false, isNew: true } },
      };
    });
  }

  /** Later routes win, so a test can override a default. */
  on(method: string, path: string | RegExp, handler: Handler): this {
    this.routes.unshift({ method, path, handler });
    return this;
  }

  calls(method: string, path: string | RegExp): FakeRequest[] {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)));
  }

  private route(req: FakeRequest): Handler | null {
    const hit = this.routes.find(
      (r) => r.method === req.method && (typeof r.path === 'string' ? r.path === req.path : r.path.test(req.path)),
    );
    return hit ? hit.handler : null;
  }

  /** The wx object to install as the global. */
  api(): Record<string, unknown> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      request(opts: WechatMiniprogram.RequestOption) {
        const u = new URL(opts.url);
        const query: Record<string, string> = {};
        u.searchParams.forEach((v, k) => {
          query[k] = v;
        });
        const header = (opts.header ?? {}) as Record<string, string>;
        const override = (opts.header as Record<string, string> | undefined)?.['X-HTTP-Method-Override'];
        const req: FakeRequest = {
          method: override ?? opts.method ?? 'GET',
          url: opts.url,
          path: u.pathname,
          query,
          data: opts.data,
          header,
          auth: header.Authorization ?? null,
        };
        self.requests.push(req);
        let finished = false;
        const handler = self.route(req);
        Promise.resolve()
          .then(() => (handler ? handler(req) : { status: 404, data: { error: { code: 'not_found', message: 'no route in the fake' } } }))
          .then((reply) => {
            if (finished) return;
            finished = true;
            if ('networkError' in reply) {
              opts.fail?.({ errMsg: `request:fail ${reply.networkError}` } as unknown as WechatMiniprogram.RequestFailCallbackErr);
            } else {
              opts.success?.({
                statusCode: reply.status,
                data: reply.data ?? '',
                header: reply.headers ?? {},
                cookies: [],
                errMsg: 'request:ok',
              } as unknown as WechatMiniprogram.RequestSuccessCallbackResult);
            }
            opts.complete?.({ errMsg: 'request:ok' });
          });
        return {
          abort() {
            if (finished) return;
            finished = true;
            self.aborted.push(req);
            opts.fail?.({ errMsg: 'request:fail abort' } as unknown as WechatMiniprogram.RequestFailCallbackErr);
          },
        };
      },
      uploadFile(opts: { url: string; filePath: string; name: string; header?: Record<string, string>; success?: (r: unknown) => void; fail?: (e: unknown) => void }) {
        const u = new URL(opts.url);
        const header = opts.header ?? {};
        const req: FakeRequest = { method: 'UPLOAD', url: opts.url, path: u.pathname, query: {}, data: { [opts.name]: opts.filePath }, header, auth: header.Authorization ?? null };
        self.requests.push(req);
        const handler = self.route(req);
        Promise.resolve()
          .then(() => (handler ? handler(req) : { status: 404, data: { error: { code: 'not_found', message: 'no route' } } }))
          .then((reply) => {
            if ('networkError' in reply) opts.fail?.({ errMsg: `uploadFile:fail ${reply.networkError}` });
            else opts.success?.({ statusCode: reply.status, data: JSON.stringify(reply.data ?? ''), errMsg: 'uploadFile:ok' });
          });
        return { abort: () => undefined };
      },
      getStorageSync: (k: string) => (self.storage.has(k) ? self.storage.get(k) : ''),
      setStorageSync: (k: string, v: unknown) => {
        self.storage.set(k, JSON.parse(JSON.stringify(v)));
      },
      removeStorageSync: (k: string) => {
        self.storage.delete(k);
      },
      clearStorageSync: () => self.storage.clear(),
      login: (o: { success?: (r: { code: string }) => void }) => {
        self.seq += 1;
        setTimeout(() => o.success?.({ code: `wx-code-${self.seq}` }), 0);
      },
      requestPayment: (o: Record<string, unknown> & { success?: (r: unknown) => void; fail?: (r: unknown) => void }) => {
        self.payments.push(o);
        Promise.resolve().then(() => {
          if (self.payment === 'success') (o.success as (r: unknown) => void)?.({ errMsg: 'requestPayment:ok' });
          else if (self.payment === 'cancel') o.fail?.({ errMsg: 'requestPayment:fail cancel' });
          else o.fail?.({ errMsg: self.payment });
        });
      },
      requestSubscribeMessage: (o: { tmplIds: string[]; success?: (r: unknown) => void }) => {
        self.subscribeRequests.push(o.tmplIds);
        Promise.resolve().then(() => o.success?.({ errMsg: 'requestSubscribeMessage:ok' }));
      },
      showToast: (o: { title: string }) => {
        self.toasts.push(o.title);
      },
      showModal: (o: { title?: string; content?: string; success?: (r: { confirm: boolean; cancel: boolean }) => void }) => {
        self.modals.push({ title: o.title, content: o.content });
        const confirm = self.modalAnswers.length ? self.modalAnswers.shift()! : true;
        Promise.resolve().then(() => o.success?.({ confirm, cancel: !confirm }));
      },
      showLoading: () => undefined,
      hideLoading: () => undefined,
      navigateTo: (o: { url: string }) => {
        self.navigations.push(o.url);
      },
      redirectTo: (o: { url: string }) => {
        self.navigations.push(o.url);
      },
      switchTab: (o: { url: string }) => {
        self.navigations.push(o.url);
      },
      reLaunch: (o: { url: string }) => {
        self.navigations.push(o.url);
      },
      stopPullDownRefresh: () => {
        self.pullDownStops += 1;
      },
      setClipboardData: (o: { data: string; success?: () => void }) => {
        self.storage.set('__clipboard', o.data);
        o.success?.();
      },
      getDeviceInfo: () => ({ platform: self.platform }),
      getSystemInfoSync: () => ({ platform: self.platform }),
      getAccountInfoSync: () => ({ miniProgram: { appId: 'wxdev0000000000001', envVersion: self.envVersion, version: '' } }),
      onNeedPrivacyAuthorization: (h: FakeWx['privacyHandler']) => {
        self.privacyHandler = h;
      },
      onAppHide: () => undefined,
    };
  }
}

/** Installs a fresh fake as the global wx (over simulate's stubs where they exist) and the test profile. */
export function installFakeWx(): FakeWx {
  const fake = new FakeWx();
  const g = globalThis as unknown as { wx: Record<string, unknown> };
  g.wx = Object.assign({}, g.wx ?? {}, fake.api());
  useProfile({ env: 'develop', apiBase: API_BASE, sandboxBase: SANDBOX_BASE, subscribeTemplateIds: [] });
  return fake;
}
