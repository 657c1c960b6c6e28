import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { ApiError } from '../../miniprogram/core/errors';
import { ClientEvent, EventQueue, events, FLUSH_INTERVAL_MS, RETRY_DELAY_MS } from '../../miniprogram/core/events';
import { TOKEN_KEY } from '../../miniprogram/core/session';
import { flush, installFakeWx } from '../fake-wx';

describe('the event queue', () => {
  let batches: ClientEvent[][];
  let fail: Array<unknown>;
  let queue: EventQueue;

  beforeEach(() => {
    jest.useFakeTimers();
    batches = [];
    fail = [];
    queue = new EventQueue(async (batch) => {
      batches.push(batch);
      const f = fail.shift();
      if (f) throw f;
    });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  const impressions = (n: number, from = 0) => {
    for (let i = from; i < from + n; i++) queue.track({ itemId: `i${i}`, type: 'impression', token: `t${i}` });
  };

  test('20 events go at once, as one batch with ids, times and tokens', async () => {
    impressions(19);
    await flush();
    expect(batches).toHaveLength(0);
    impressions(1, 19);
    await flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(20);
    expect(new Set(batches[0].map((e) => e.id)).size).toBe(20);
    expect(batches[0][3]).toMatchObject({ itemId: 'i3', type: 'impression', token: 't3', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(queue.pending).toBe(0);
  });

  test('fewer than 20 go 10 s after the first, not before', async () => {
    impressions(3);
    jest.advanceTimersByTime(FLUSH_INTERVAL_MS - 1);
    await flush();
    expect(batches).toHaveLength(0);
    jest.advanceTimersByTime(1);
    await flush();
    expect(batches.map((b) => b.length)).toEqual([3]);
  });

  test('a flush (onHide) sends what is queued now, at most 100 per request', async () => {
    // 250 events queued without reaching the 20 trigger: simulate a burst tracked while a flush was impossible
    for (let i = 0; i < 250; i++) (queue as unknown as { queue: ClientEvent[] }).queue.push({ id: `x${i}`, itemId: 'i', type: 'click', at: 'now' });
    await queue.flush();
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
  });

  test('a failed batch is retried once with the same ids, then dropped; tracking never throws', async () => {
    fail = [new ApiError({ status: 503, code: 'upstream_unavailable', message: 'x' }), new ApiError({ status: 0, code: 'network_error', message: 'x' })];
    impressions(2);
    const done = queue.flush();
    await flush();
    jest.advanceTimersByTime(RETRY_DELAY_MS);
    await done;
    expect(batches).toHaveLength(2);
    expect(batches[1].map((e) => e.id)).toEqual(batches[0].map((e) => e.id));
    expect(queue.dropped).toBe(2);
    expect(queue.sent).toBe(0);
    // the queue goes on working
    impressions(1);
    await queue.flush();
    expect(queue.sent).toBe(1);
  });

  test('a batch the server refuses (400) is dropped without a retry', async () => {
    fail = [new ApiError({ status: 400, code: 'bad_request', message: 'x', fields: { 'events[0].itemId': 'unknown' } })];
    impressions(1);
    await queue.flush();
    expect(batches).toHaveLength(1);
    expect(queue.dropped).toBe(1);
  });

  test('dwell and share carry their extras', async () => {
    queue.track({ itemId: 'a', type: 'dwell', dwellMs: 1234.6, token: null });
    queue.track({ itemId: 'a', type: 'click', ref: 'u-sharer' });
    await queue.flush();
    expect(batches[0][0]).toEqual(expect.objectContaining({ type: 'dwell', dwellMs: 1235 }));
    expect(batches[0][0]).not.toHaveProperty('token');
    expect(batches[0][1]).toEqual(expect.objectContaining({ type: 'click', ref: 'u-sharer' }));
  });
});

test('the app queue posts {"events": [...]} to /events through the wrapper', async () => {
  const fake = installFakeWx();
  fake.storage.set(TOKEN_KEY, 'good');
  fake.on('POST', '/api/v1/events', (req) => ({ status: 202, data: { accepted: (req.data as { events: unknown[] }).events.length, duplicates: 0 } }));
  events.track({ itemId: 'i1', type: 'click', token: 'tok' });
  await events.flush();
  const posted = fake.calls('POST', '/api/v1/events');
  expect(posted).toHaveLength(1);
  expect(posted[0].auth).toBe('Bearer good');
  expect(posted[0].data).toEqual({ events: [expect.objectContaining({ itemId: 'i1', type: 'click', token: 'tok' })] });
});
