import { beforeEach, describe, expect, test } from '@jest/globals';
import { TOKEN_KEY } from '../../miniprogram/core/session';
import { FakeWx, installFakeWx } from '../fake-wx';
import { mount, settle, text } from '../render';

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

describe('the catalogue page', () => {
  test('lists GET /items by tag; a chip filters, tapping it again clears the filter', async () => {
    fake.on('GET', '/api/v1/items', (req) => ({
      status: 200,
      data: {
        items: req.query.tag === 'go' ? [item('g', { tags: ['go'] })] : [item('a', { tags: ['java', 'go'] }), item('b', { tags: ['vertx'] })],
        nextCursor: null,
      },
    }));
    const page = mount('pkg-content/pages/catalogue/catalogue');
    await page.instance.onLoad({ tag: 'java' });
    await settle();
    expect(fake.calls('GET', '/api/v1/items')[0].query).toMatchObject({ tag: 'java', limit: '20' });
    expect(page.data.tags).toEqual(['java', 'go', 'vertx']);
    await page.instance.onChip({ currentTarget: { dataset: { tag: 'go' } } });
    await settle();
    expect(page.data.entries.map((e: { id: string }) => e.id)).toEqual(['g']);
    expect(text(page)).toContain('Title g');
    await page.instance.onChip({ currentTarget: { dataset: { tag: 'go' } } });
    await settle();
    expect(fake.calls('GET', '/api/v1/items').at(-1)!.query.tag).toBeUndefined();
  });
});
