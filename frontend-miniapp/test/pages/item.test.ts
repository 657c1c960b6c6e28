import { beforeEach, describe, expect, test } from '@jest/globals';
import { TOKEN_KEY } from '../../miniprogram/core/session';
import { FakeWx, installFakeWx } from '../fake-wx';
import { has, mount, settle, text } from '../render';

const PAID_ITEM = {
  id: 'i-paid',
  kind: 'article',
  title: 'Reactive backends in practice',
  summary: 's',
  coverUrl: null,
  tags: ['java'],
  price: { amount: 100, currency: 'CNY' },
  locked: true,
  sponsored: false,
  campaignId: null,
  preview: 'The first paragraph…',
  body: null,
};
const UNLOCKED = { ...PAID_ITEM, locked: false, body: 'The whole article body.', preview: null };

let fake: FakeWx;
let owned: boolean;
let orderStatus: string[];

beforeEach(() => {
  fake = installFakeWx();
  fake.storage.set(TOKEN_KEY, 'tok');
  owned = false;
  orderStatus = [];
  fake.on('GET', '/api/v1/items/i-paid', () => ({ status: 200, data: owned ? UNLOCKED : PAID_ITEM }));
  fake.on('POST', '/api/v1/orders', () => ({
    status: 201,
    data: {
      id: 'o1',
      status: 'pending',
      itemId: 'i-paid',
      amount: { amount: 100, currency: 'CNY' },
      payParams: { timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx123', signType: 'RSA', paySign: 's' },
    },
  }));
  fake.on('POST', '/sandbox/pay/confirm', () => ({ status: 200, data: { trade_state: 'SUCCESS' } }));
  fake.on('GET', '/api/v1/orders/o1', () => {
    const status = orderStatus.length > 1 ? orderStatus.shift()! : orderStatus[0] ?? 'pending';
    if (status === 'paid') owned = true;
    return { status: 200, data: { id: 'o1', status, itemId: 'i-paid', amount: { amount: 100, currency: 'CNY' } } };
  });
});

async function openItem() {
  const page = mount('pkg-content/pages/item/item');
  await page.instance.onLoad({ id: 'i-paid' });
  await settle();
  return page;
}

async function tapBuy(page: ReturnType<typeof mount>) {
  const done = page.instance.onBuy();
  await done;
  await settle();
}

describe('the item page', () => {
  test('a locked paid item shows the preview, the price and a buy button, not the body', async () => {
    const page = await openItem();
    expect(text(page)).toContain('The first paragraph');
    expect(text(page)).toContain('¥1.00');
    expect(has(page, '.buy-button')).toBe(true);
    expect(has(page, '.body')).toBe(false);
  });

  test('an owned item shows its body and no buy button', async () => {
    owned = true;
    const page = await openItem();
    expect(text(page)).toContain('The whole article body.');
    expect(has(page, '.buy-button')).toBe(false);
    expect(text(page)).not.toContain('¥1.00');
  });

  test('on iOS a locked virtual item shows no price and no buy button; owned items still open', async () => {
    fake.platform = 'ios';
    const page = await openItem();
    expect(has(page, '.buy-button')).toBe(false);
    expect(text(page)).not.toContain('¥');
    owned = true;
    const again = await openItem();
    expect(text(again)).toContain('The whole article body.');
  });

  test('paid: the simulated cashier pays through the sandbox, the order is polled, and the server unlocks the body', async () => {
    orderStatus = ['pending', 'paid'];
    fake.modalAnswers = [true]; // 支付
    const page = await openItem();
    await tapBuy(page);
    expect(fake.modals[0].title).toBe('模拟收银台');
    expect(fake.calls('POST', '/sandbox/pay/confirm').map((r) => r.data)).toEqual([{ prepayId: 'wx123' }]);
    expect(fake.calls('GET', '/api/v1/orders/o1')).toHaveLength(2);
    expect(text(page)).toContain('The whole article body.');
    expect(has(page, '.buy-button')).toBe(false);
    expect(page.data.paying).toBe(false);
  });

  test('cancel: the button is released, nothing is polled, no error toast, and a retry reuses the Idempotency-Key', async () => {
    fake.modalAnswers = [false]; // 取消
    const page = await openItem();
    await tapBuy(page);
    expect(page.data.paying).toBe(false);
    expect(page.data.payState).toBe('cancelled');
    expect(text(page)).toContain('已取消支付');
    expect(fake.toasts).toEqual([]);
    expect(fake.calls('GET', '/api/v1/orders/o1')).toHaveLength(0);
    expect(fake.calls('POST', '/sandbox/pay/confirm')).toHaveLength(0);
    expect(has(page, '.buy-button')).toBe(true);

    orderStatus = ['paid'];
    fake.modalAnswers = [true];
    await tapBuy(page);
    const keys = fake.calls('POST', '/api/v1/orders').map((r) => r.header['Idempotency-Key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
    expect(text(page)).toContain('The whole article body.');
  });

  test('a double tap while the cashier is open creates one order', async () => {
    orderStatus = ['paid'];
    const page = await openItem();
    const first = page.instance.onBuy();
    const second = page.instance.onBuy();
    await Promise.all([first, second]);
    await settle();
    expect(fake.calls('POST', '/api/v1/orders')).toHaveLength(1);
  });

  test('still pending after the polls: 支付结果确认中, the body stays locked, and onShow re-checks', async () => {
    orderStatus = ['pending'];
    const page = await openItem();
    await tapBuy(page);
    expect(fake.calls('GET', '/api/v1/orders/o1')).toHaveLength(7); // 0, 0.3, 0.7, 1, 1.5, 2.5, 4 s
    expect(text(page)).toContain('支付结果确认中');
    expect(has(page, '.body')).toBe(false);
    orderStatus = ['paid'];
    await page.instance.onShow();
    await settle();
    expect(text(page)).toContain('The whole article body.');
  }, 15000);

  test('already owned (409): the page reloads and shows the body', async () => {
    fake.on('POST', '/api/v1/orders', () => {
      owned = true;
      return { status: 409, data: { error: { code: 'already_owned', message: '已拥有' } } };
    });
    const page = await openItem();
    await tapBuy(page);
    expect(text(page)).toContain('The whole article body.');
    expect(fake.calls('GET', '/api/v1/orders/o1')).toHaveLength(0);
  });

  test('a failed order shows the server message and releases the button', async () => {
    fake.on('POST', '/api/v1/orders', () => ({ status: 503, data: { error: { code: 'upstream_unavailable', message: '微信支付暂时不可用' } } }));
    const page = await openItem();
    await tapBuy(page);
    expect(page.data.paying).toBe(false);
    expect(fake.toasts.join()).toContain('微信支付暂时不可用');
    expect(has(page, '.buy-button')).toBe(true);
  });

  test('the release build calls wx.requestPayment with the server payParams; its cancel is a cancel', async () => {
    const { useProfile, profileFor } = await import('../../miniprogram/config/index');
    useProfile({ ...profileFor('release', null), apiBase: 'http://api.test/api/v1' });
    fake.payment = 'cancel';
    const page = await openItem();
    await tapBuy(page);
    expect(fake.payments).toHaveLength(1);
    expect(fake.payments[0]).toMatchObject({ package: 'prepay_id=wx123', signType: 'RSA', paySign: 's', nonceStr: 'n', timeStamp: '1' });
    expect(fake.modals).toHaveLength(0);
    expect(page.data.payState).toBe('cancelled');
    fake.payment = 'success';
    orderStatus = ['paid'];
    await tapBuy(page);
    expect(text(page)).toContain('The whole article body.');
  });
});
