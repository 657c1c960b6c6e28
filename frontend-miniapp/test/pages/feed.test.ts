import { beforeEach, describe, expect, test } from '@jest/globals';
import { events } from '../../miniprogram/core/events';
import { TOKEN_KEY } from '../../miniprogram/core/session';
import { deferred, FakeWx, installFakeWx } from '../fake-wx';
import { has, mount, settle, text } from '../render';

const item = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'article',
  title: `Title ${id}`,
  summary: `Summary ${id}`,
  coverUrl: null,
  tags: ['java'],
  price: null,
  locked: false,
  sponsored: false,
  campaignId: null,
  reason: { kind: 'trending', becauseOf: null, tag: null },
  token: `tok-${id}`,
  ...extra,
});

let fake: FakeWx;
let pages: Record<string, { items: unknown[]; nextCursor: string | null }>;

beforeEach(() => {
  fake = installFakeWx();
  fake.storage.set(TOKEN_KEY, 'tok');
  pages = {
    '': { items: [item('a'), item('b', { sponsored: true, campaignId: 'c1', reason: { kind: 'sponsored', becauseOf: null, tag: null } })], nextCursor: 'p2' },
    p2: { items: [item('b'), item('c', { reason: { kind: 'similar', becauseOf: { itemId: 'a', title: '响应式后端' }, tag: null }, price: { amount: 990, currency: 'CNY' }, locked: true })], nextCursor: null },
  };
  fake.on('GET', '/api/v1/feed', (req) => ({ status: 200, data: pages[req.query.cursor ?? ''] }));
  fake.on('POST', '/api/v1/events', () => ({ status: 202, data: { accepted: 1, duplicates: 0 } }));
});

describe('the feed page', () => {
  test('pages with onReachBottom, deduplicates, labels sponsored entries and shows the Reason', async () => {
    const feed = mount('pages/feed/feed');
    await feed.instance.onLoad();
    await settle();
    expect(feed.data.entries.map((e: { id: string }) => e.id)).toEqual(['a', 'b']);
    expect(text(feed)).toContain('广告');
    expect(text(feed)).toContain('大家都在看');
    await feed.instance.onReachBottom();
    await settle();
    expect(feed.data.entries.map((e: { id: string }) => e.id)).toEqual(['a', 'b', 'c']);
    expect(text(feed)).toContain('因为你读过《响应式后端》');
    expect(text(feed)).toContain('¥9.90');
    expect(text(feed)).toContain('没有更多了');
    expect(fake.calls('GET', '/api/v1/feed').map((r) => r.query.cursor ?? null)).toEqual([null, 'p2']);
    await feed.instance.onReachBottom(); // at the end: nothing more is asked
    expect(fake.calls('GET', '/api/v1/feed')).toHaveLength(2);
  });

  test('an empty feed shows the empty state', async () => {
    pages[''] = { items: [], nextCursor: null };
    const feed = mount('pages/feed/feed');
    await feed.instance.onLoad();
    await settle();
    expect(feed.data.empty).toBe(true);
    expect(text(feed)).toContain('暂时没有推荐');
    expect(text(feed)).not.toContain('没有更多了');
  });

  test('on iOS a locked paid entry shows no price', async () => {
    fake.platform = 'ios';
    pages[''] = { items: [item('c', { price: { amount: 990, currency: 'CNY' }, locked: true })], nextCursor: null };
    const feed = mount('pages/feed/feed');
    await feed.instance.onLoad();
    await settle();
    expect(text(feed)).toContain('Title c');
    expect(text(feed)).not.toContain('¥');
  });

  test('pull-down starts a new feed and stops the spinner only after the answer', async () => {
    const feed = mount('pages/feed/feed');
    await feed.instance.onLoad();
    await settle();
    const gate = deferred<void>();
    fake.on('GET', '/api/v1/feed', async () => {
      await gate.promise;
      return { status: 200, data: { items: [item('z')], nextCursor: null } };
    });
    const refreshing = feed.instance.onPullDownRefresh();
    await settle();
    expect(fake.pullDownStops).toBe(0);
    gate.resolve();
    await refreshing;
    expect(fake.pullDownStops).toBe(1);
    expect(feed.data.entries.map((e: { id: string }) => e.id)).toEqual(['z']);
    expect(fake.calls('GET', '/api/v1/feed').at(-1)!.query.cursor).toBeUndefined();
  });

  test('a failed page shows the server message with a retry, and the spinner still stops', async () => {
    fake.on('GET', '/api/v1/feed', () => ({ status: 503, data: { error: { code: 'upstream_unavailable', message: '推荐服务繁忙' } } }));
    const feed = mount('pages/feed/feed');
    await feed.instance.onPullDownRefresh();
    await settle();
    expect(text(feed)).toContain('推荐服务繁忙');
    expect(fake.pullDownStops).toBe(1);
    expect(has(feed, '.hint.error')).toBe(true);
  });

  test('impressions (once per entry) and clicks carry the entry token; a tap opens the item', async () => {
    const feed = mount('pages/feed/feed');
    await feed.instance.onLoad();
    await settle();
    feed.instance.onCardVisible('a');
    feed.instance.onCardVisible('a');
    feed.instance.onCardVisible('b');
    feed.instance.onPick({ detail: { id: 'b' }, currentTarget: { dataset: {} } });
    await events.flush();
    const sent = (fake.calls('POST', '/api/v1/events')[0].data as { events: Array<{ itemId: string; type: string; token: string }> }).events;
    expect(sent.map((e) => [e.type, e.itemId, e.token])).toEqual([
      ['impression', 'a', 'tok-a'],
      ['impression', 'b', 'tok-b'],
      ['click', 'b', 'tok-b'],
    ]);
    expect(fake.navigations).toEqual(['/pkg-content/pages/item/item?id=b']);
  });

  test('the card tap reaches the page through the feed-card component', async () => {
    const feed = mount('pages/feed/feed');
    await feed.instance.onLoad();
    await settle();
    const card = feed.querySelectorAll('.card-host')[0];
    const inner = card.querySelector('.card');
    inner!.dispatchEvent('tap');
    await settle();
    expect(fake.navigations).toEqual(['/pkg-content/pages/item/item?id=a']);
  });
});
