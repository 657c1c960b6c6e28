import { config } from '../config/index';
import { ApiError } from '../core/errors';
import { sandboxConfirm, sandboxEnabled } from '../core/sandbox';
import { RequestScope, sleep } from '../core/transport';
import { formatMoney } from '../utils/format';
import { createOrder, getOrder } from './api';
import type { Order } from './types';

/**
 * Buying an item:
 *  1. one Idempotency-Key per purchase intent (kept in storage per item): a retry after a cancel, a double tap or a
 *     lost answer reuses it and gets the same order; it is reset once the order is paid or closed;
 *  2. the cashier: wx.requestPayment with the server's payParams (a develop build shows a simulated cashier instead
 *     and pays through the sandbox); cancel is its own outcome: nothing to poll, nothing to report;
 *  3. after the cashier says paid, the order is polled (GET /orders/{id} asks WeChat Pay while pending) at 0, 0.3,
 *     0.7, 1, 1.5, 2.5 and 4 s; still pending after that is "confirming" and the page re-checks on onShow. The item
 *     unlocks only when the server says so, never on the cashier's word.
 */
export type PayOutcome =
  | { kind: 'paid'; order: Order }
  | { kind: 'pending'; order: Order }
  | { kind: 'cancelled'; order: Order }
  | { kind: 'failed'; message: string; order?: Order }
  | { kind: 'owned' };

const KEY_PREFIX = 'wxmp.payKey.';
/** Delays between the polls: the polls happen at 0, 0.3, 0.7, 1, 1.5, 2.5 and 4 s. */
export const POLL_DELAYS_MS = [0, 300, 400, 300, 500, 1000, 1500];

export function intentKey(itemId: string): string {
  const stored = wx.getStorageSync(KEY_PREFIX + itemId);
  if (typeof stored === 'string' && stored) return stored;
  const key = `buy-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
  wx.setStorageSync(KEY_PREFIX + itemId, key);
  return key;
}

export function resetIntent(itemId: string): void {
  wx.removeStorageSync(KEY_PREFIX + itemId);
}

/** Subscribe messages may only be asked for in a tap or a payment callback (at most 3 templates); never awaited. */
export function askSubscribe(): void {
  const ids = config().subscribeTemplateIds;
  if (!ids.length || typeof wx.requestSubscribeMessage !== 'function') return;
  try {
    wx.requestSubscribeMessage({ tmplIds: ids.slice(0, 3), success: () => undefined, fail: () => undefined });
  } catch {
    // consent is optional; the flow never depends on it
  }
}

type CashierResult = { ok: true } | { ok: false; cancelled: boolean; message: string };

function prepayId(order: Order): string {
  return (order.payParams?.package ?? '').replace(/^prepay_id=/, '');
}

/** The simulated cashier of a develop build: 支付 pays through the sandbox, 取消 is a cancel. */
function devCashier(order: Order): Promise<CashierResult> {
  return new Promise((resolve) => {
    wx.showModal({
      title: '模拟收银台',
      content: `开发版：支付 ${formatMoney(order.amount)}（沙箱模拟微信支付）`,
      confirmText: '支付',
      cancelText: '取消',
      success: (r) => {
        if (!r.confirm) {
          resolve({ ok: false, cancelled: true, message: '已取消支付' });
          return;
        }
        askSubscribe();
        sandboxConfirm(prepayId(order)).then(
          () => resolve({ ok: true }),
          (e: unknown) => resolve({ ok: false, cancelled: false, message: e instanceof ApiError ? e.message : '模拟支付失败' }),
        );
      },
      fail: () => resolve({ ok: false, cancelled: true, message: '已取消支付' }),
    });
  });
}

function wechatCashier(order: Order): Promise<CashierResult> {
  const p = order.payParams;
  return new Promise((resolve) => {
    if (!p) {
      resolve({ ok: false, cancelled: false, message: '缺少支付参数' });
      return;
    }
    wx.requestPayment({
      timeStamp: p.timeStamp,
      nonceStr: p.nonceStr,
      package: p.package,
      signType: p.signType as 'RSA',
      paySign: p.paySign,
      success: () => {
        askSubscribe(); // inside the payment callback, where WeChat allows the consent dialog
        resolve({ ok: true });
      },
      fail: (e) => {
        const msg = e?.errMsg ?? '';
        resolve(/cancel/i.test(msg) ? { ok: false, cancelled: true, message: '已取消支付' } : { ok: false, cancelled: false, message: '支付未完成，请重试' });
      },
    });
  });
}

export function cashier(order: Order): Promise<CashierResult> {
  return sandboxEnabled() ? devCashier(order) : wechatCashier(order);
}

/** Polls the order until it is no longer pending, or the schedule ends; answers the last order read. */
export async function waitPaid(order: Order, scope?: RequestScope | null): Promise<Order> {
  let last = order;
  for (const delay of POLL_DELAYS_MS) {
    if (delay) await sleep(delay, scope);
    last = await getOrder(order.id, scope);
    if (last.status !== 'pending') return last;
  }
  return last;
}

export async function purchase(itemId: string, scope?: RequestScope | null): Promise<PayOutcome> {
  let order: Order;
  try {
    order = await createOrder(itemId, intentKey(itemId), scope);
    if (order.status === 'closed') {
      // the intent's order expired (15 min): a new intent
      resetIntent(itemId);
      order = await createOrder(itemId, intentKey(itemId), scope);
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 409 && e.code === 'already_owned') {
      resetIntent(itemId);
      return { kind: 'owned' };
    }
    throw e;
  }
  if (order.status === 'paid') {
    resetIntent(itemId);
    return { kind: 'paid', order };
  }
  const paid = await cashier(order);
  if (!paid.ok) {
    return paid.cancelled ? { kind: 'cancelled', order } : { kind: 'failed', message: paid.message, order };
  }
  const final = await waitPaid(order, scope);
  if (final.status === 'paid') {
    resetIntent(itemId);
    return { kind: 'paid', order: final };
  }
  if (final.status === 'pending') return { kind: 'pending', order: final };
  resetIntent(itemId);
  return { kind: 'failed', message: '订单已关闭，请重新购买', order: final };
}
