import { abortedError, networkError } from './errors';

export interface RawResponse {
  status: number;
  data: unknown;
  headers: Record<string, unknown>;
}

export interface SendOptions {
  url: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  data?: unknown;
  headers?: Record<string, string>;
  scope?: RequestScope | null;
  timeoutMs?: number;
}

/**
 * The requests of one page. `abortAll()` (called from the page's onUnload) aborts what is in flight and refuses new
 * ones, so a late answer never reaches a dead page; the aborted promises settle with ApiError `aborted`.
 */
export class RequestScope {
  private readonly tasks = new Set<{ abort(): void }>();
  private closedFlag = false;
  private readonly cancels = new Set<() => void>();

  get closed(): boolean {
    return this.closedFlag;
  }

  track(task: { abort(): void }): () => void {
    this.tasks.add(task);
    return () => this.tasks.delete(task);
  }

  /** A timer or wait that should end with the page; the callback runs on abortAll. */
  onAbort(cancel: () => void): () => void {
    this.cancels.add(cancel);
    return () => this.cancels.delete(cancel);
  }

  abortAll(): void {
    this.closedFlag = true;
    const tasks = [...this.tasks];
    const cancels = [...this.cancels];
    this.tasks.clear();
    this.cancels.clear();
    tasks.forEach((t) => t.abort());
    cancels.forEach((c) => c());
  }
}

/**
 * One wx.request as a promise that always settles: the answer (any status), or ApiError network_error / aborted.
 * wx.request has no PATCH, so a PATCH goes as POST with X-HTTP-Method-Override: PATCH (the server's router honours it).
 */
export function send(opts: SendOptions): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const scope = opts.scope ?? null;
    if (scope?.closed) {
      reject(abortedError());
      return;
    }
    let settled = false;
    let untrack: () => void = () => undefined;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      untrack();
      fn();
    };
    const patch = opts.method === 'PATCH';
    const task = wx.request({
      url: opts.url,
      method: opts.method === 'PATCH' ? 'POST' : opts.method,
      data: opts.data as WechatMiniprogram.IAnyObject | undefined,
      header: {
        'Content-Type': 'application/json',
        ...(patch ? { 'X-HTTP-Method-Override': 'PATCH' } : {}),
        ...(opts.headers ?? {}),
      },
      dataType: 'json',
      timeout: opts.timeoutMs ?? 15000,
      success: (res) =>
        done(() => resolve({ status: res.statusCode, data: res.data, headers: (res.header ?? {}) as Record<string, unknown> })),
      fail: (err) =>
        done(() => reject(/abort/i.test(err.errMsg ?? '') ? abortedError() : networkError(err.errMsg ?? 'request:fail'))),
    });
    if (scope && task) {
      untrack = scope.track({
        abort: () => {
          try {
            task.abort();
          } finally {
            // WeChat calls fail with "request:fail abort"; settle even if a fake does not.
            done(() => reject(abortedError()));
          }
        },
      });
    }
  });
}

/** A delay that ends early (rejecting with `aborted`) when the scope aborts. */
export function sleep(ms: number, scope?: RequestScope | null): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (scope?.closed) {
      reject(abortedError());
      return;
    }
    let off: () => void = () => undefined;
    const timer = setTimeout(() => {
      off();
      resolve();
    }, ms);
    if (scope) {
      off = scope.onAbort(() => {
        clearTimeout(timer);
        reject(abortedError());
      });
    }
  });
}
