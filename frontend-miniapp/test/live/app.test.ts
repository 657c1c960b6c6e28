/**
 * The real pages and services against a real dev server (started by server.setup.ts): real PostgreSQL, Redis, WeChat
 * Pay signatures and notifies through the sandbox. Only wx.* is swapped (live-wx.ts).
 */
import { beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { events } from '../../miniprogram/core/events';
import { storedToken } from '../../miniprogram/core/session';
import { has, mount, settle, text } from '../render';
import { adminGet, adminToken, httpJson, installLiveWx, LiveWx, userGet } from './live-wx';
import { liveState } from './state';

interface AdminItem {
  id: string;
  title: string;
  kind: string;
  price: { amount: number } | null;
  status: string;
}

jest.setTimeout(60_000);

let items: AdminItem[];
let quizId: string;
let wxl: LiveWx;

beforeAll(async () => {
  const admin = await adminToken();
  items = (await adminGet<{ items: AdminItem[] }>('/admin/items?limit=50', admin)).items;
  quizId = (await adminGet<{ items: Array<{ id: string; status: string }> }>('/admin/quizzes', admin)).items.find((q) => q.status === 'published')!.id;
});

beforeEach(() => {
  wxl = installLiveWx();
});

/** Another WeChat user, logged in straight through the sandbox: the one who shared an item. */
async function otherUserId(): Promise<string> {
  const s = liveState();
  const codes = (await httpJson('POST', `${s.sandbox}/sandbox/users`, {})).body as { code: string };
  const login = (await httpJson('POST', `${s.api}/auth/login`, { code: codes.code })).body as { user: { id: string } };
  return login.user.id;
}

const paidArticle = () => items.find((i) => i.kind === 'article' && i.price != null && i.status === 'published')!;
const paidCourse = () => items.find((i) => i.kind === 'course' && i.price != null && i.status === 'published')!;
const feedOn = liveState().features.feed;
const eventsOn = liveState().features.events;

describe('live against a dev server', () => {
  test('log in through the sandbox, bind the phone on the me page; the button goes away', async () => {
    const me = mount('pages/me/me');
    await me.instance.onShow();
    await settle();
    expect(storedToken()).toBeTruthy();
    expect(wxl.calls('POST', '/sandbox/users')).toHaveLength(1);
    expect(wxl.answers.find((a) => a.req.path.endsWith('/auth/login'))?.status).toBe(200);
    expect(me.data.me.points).toBe(0);
    expect(has(me, '.bind-phone')).toBe(true);

    await me.instance.onGetPhoneNumber({ detail: { code: 'a-devtools-code-only-wechat-knows' } });
    await settle();
    expect(me.data.phoneBound).toBe(true);
    expect(me.data.phoneMasked).toMatch(/^\d{3}\*{4}\d{4}$/);
    expect(text(me)).toContain(me.data.phoneMasked);
    expect(has(me, '.bind-phone')).toBe(false);
    const server = await userGet<{ phoneBound: boolean }>('/me', storedToken()!);
    expect(server.body.phoneBound).toBe(true);
  });

  test('buy a paid article: the simulated cashier pays, the notify lands, the server unlocks the body', async () => {
    const article = paidArticle();
    const page = mount('pkg-content/pages/item/item');
    await page.instance.onLoad({ id: article.id });
    await settle();
    expect(page.data.locked).toBe(true);
    expect(has(page, '.buy-button')).toBe(true);
    wxl.modalAnswers = [true]; // 支付
    await page.instance.onBuy();
    await settle();
    expect(page.data.payState).toBe('');
    expect(page.data.locked).toBe(false);
    expect(page.data.item.body).toBeTruthy();
    expect(text(page)).toContain(page.data.item.body.slice(0, 20).trim());
    const orders = await userGet<{ items: Array<{ itemId: string; status: string }> }>('/orders', storedToken()!);
    const list = orders.body.items;
    expect(list.filter((o) => o.itemId === article.id).map((o) => o.status)).toEqual(['paid']);
  });

  test('cancel a payment: nothing is charged, the item stays locked, and paying later reuses the same order', async () => {
    const course = paidCourse();
    const page = mount('pkg-content/pages/item/item');
    await page.instance.onLoad({ id: course.id });
    await settle();
    wxl.modalAnswers = [false]; // 取消
    await page.instance.onBuy();
    await settle();
    expect(page.data.payState).toBe('cancelled');
    expect(page.data.paying).toBe(false);
    expect(wxl.toasts).toEqual([]);
    const created = wxl.answers.filter((a) => a.req.path.endsWith('/orders') && a.req.method === 'POST');
    expect(created).toHaveLength(1);
    const orderId = (created[0].body as { id: string }).id;
    const order = await userGet<{ status: string; paidAt: string | null }>(`/orders/${orderId}`, storedToken()!);
    expect(order.body.status).toBe('pending');
    expect(order.body.paidAt).toBeNull();
    const item = await userGet<{ locked: boolean; body: string | null }>(`/items/${course.id}`, storedToken()!);
    expect(item.body.locked).toBe(true);
    expect(item.body.body).toBeNull();

    wxl.modalAnswers = [true];
    await page.instance.onBuy();
    await settle();
    const again = wxl.answers.filter((a) => a.req.path.endsWith('/orders') && a.req.method === 'POST');
    expect((again[1].body as { id: string }).id).toBe(orderId); // the same Idempotency-Key, the same order
    expect(page.data.locked).toBe(false);
  });

  test('take the quiz: answers submitted, score shown, the leaderboard pins me, the points reach /me', async () => {
    const quiz = mount('pkg-quiz/pages/quiz/quiz');
    await quiz.instance.onLoad({ id: quizId });
    await settle();
    expect(quiz.data.phase).toBe('answering');
    expect(quiz.data.remainingMs).toBeGreaterThan(0);
    for (const q of quiz.data.questions as Array<{ id: string; choices: Array<{ id: string }> }>) {
      quiz.instance.onChoose({ currentTarget: { dataset: { question: q.id, choice: q.choices[0].id } } });
    }
    await quiz.instance.onSubmit();
    await settle();
    quiz.instance.onUnload();
    expect(quiz.data.phase).toBe('done');
    const result = quiz.data.result as { score: number; total: number; pointsAwarded: number };
    expect(result.total).toBe(quiz.data.questions.length);
    expect(text(quiz)).toContain(`${result.score} / ${result.total}`);

    const board = mount('pkg-quiz/pages/leaderboard/leaderboard');
    await board.instance.onLoad({ id: quizId });
    await settle();
    expect(board.data.me).not.toBeNull();
    expect(board.data.me.score).toBe(result.score);
    expect(has(board, '.pinned')).toBe(true);

    const me = mount('pages/me/me');
    await me.instance.onShow();
    await settle();
    expect(me.data.me.points).toBe(result.pointsAwarded);
    expect(text(me)).toContain(`积分 ${result.pointsAwarded}`);
  });

  (eventsOn ? test : test.skip)('events from the item page (a share open with ref, dwell, share) are accepted', async () => {
    const article = paidArticle();
    const sharer = await otherUserId();
    const page = mount('pkg-content/pages/item/item');
    await page.instance.onLoad({ id: article.id, from: sharer });
    await settle();
    await new Promise((r) => setTimeout(r, 1100)); // dwell counts from 1 s
    const share = page.instance.onShareAppMessage();
    expect(share.path).toMatch(new RegExp(`^/pkg-content/pages/item/item\\?id=${article.id}&from=.+`));
    page.instance.onUnload();
    await events.flush();
    const posted = wxl.answers.filter((a) => a.req.path.endsWith('/events'));
    const sent = posted.flatMap((a) => (a.req.data as { events: Array<{ type: string; ref?: string }> }).events);
    expect(sent.map((e) => e.type).sort()).toEqual(['click', 'dwell', 'share']);
    expect(sent.find((e) => e.type === 'click')!.ref).toBe(sharer);
    expect(posted.map((a) => a.status)).toEqual([202]);
    expect(posted[0].body).toMatchObject({ accepted: 3, duplicates: 0 });
  });

  (feedOn ? test : test.skip)('page the feed to its end with no repeats, and the events are accepted', async () => {
    const feed = mount('pages/feed/feed');
    await feed.instance.onLoad();
    await settle();
    for (let i = 0; i < 20 && !feed.data.end; i++) {
      await feed.instance.onReachBottom();
      await settle();
    }
    const ids = (feed.data.entries as Array<{ id: string }>).map((e) => e.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
    const served = wxl.answers.filter((a) => a.req.path.endsWith('/feed')).flatMap((a) => (a.body as { items: Array<{ id: string }> }).items.map((x) => x.id));
    expect(new Set(served).size).toBe(served.length); // the server itself never repeated one
    expect(feed.data.end).toBe(true);

    ids.slice(0, 3).forEach((id) => feed.instance.onCardVisible(id));
    feed.instance.onPick({ detail: { id: ids[0] }, currentTarget: { dataset: {} } });
    await events.flush();
    const posted = wxl.answers.filter((a) => a.req.path.endsWith('/events'));
    expect(posted.map((a) => a.status)).toEqual([202]);
    expect(posted[0].body).toMatchObject({ accepted: 4, duplicates: 0 });
  });
});
