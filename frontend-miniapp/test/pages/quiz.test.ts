import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { TOKEN_KEY } from '../../miniprogram/core/session';
import { FakeWx, flush, installFakeWx } from '../fake-wx';
import { has, mount, text } from '../render';

const QUIZ = {
  id: 'q1',
  title: 'Vert.x 基础',
  timeLimitSec: 60,
  maxAttempts: 2,
  questions: [
    { id: 'x1', text: 'Q one', choices: [{ id: 'c1', text: 'A1' }, { id: 'c2', text: 'B1' }] },
    { id: 'x2', text: 'Q two', choices: [{ id: 'c3', text: 'A2' }, { id: 'c4', text: 'B2' }] },
  ],
};
// The server's clock is far from the phone's: the countdown must come from deadline - startedAt alone.
const ATTEMPT = { attemptId: 'at1', startedAt: '2020-01-01T00:00:00.000Z', deadline: '2020-01-01T00:01:00.000Z', questions: [QUIZ.questions[1], QUIZ.questions[0]] };
const RESULT = {
  score: 1,
  total: 2,
  results: [
    { questionId: 'x1', correct: true, correctChoiceId: 'c1' },
    { questionId: 'x2', correct: false, correctChoiceId: 'c3' },
  ],
  pointsAwarded: 10,
  rank: 3,
};

let fake: FakeWx;

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-12-02T08:00:00Z') });
  fake = installFakeWx();
  fake.storage.set(TOKEN_KEY, 'tok');
  fake.on('GET', '/api/v1/quizzes/q1', () => ({ status: 200, data: QUIZ }));
  fake.on('POST', '/api/v1/quizzes/q1/attempts', () => ({ status: 201, data: ATTEMPT }));
  fake.on('POST', '/api/v1/quizzes/q1/attempts/at1/submit', () => ({ status: 200, data: RESULT }));
});
afterEach(() => {
  jest.useRealTimers();
});

async function open() {
  const page = mount('pkg-quiz/pages/quiz/quiz');
  await page.instance.onLoad({ id: 'q1' });
  await flush(50);
  return page;
}

const choose = (page: ReturnType<typeof mount>, question: string, choice: string) =>
  page.instance.onChoose({ currentTarget: { dataset: { question, choice } } });

describe('the quiz page', () => {
  test('counts down from the server deadline, in the attempt question order', async () => {
    const page = await open();
    expect(page.data.phase).toBe('answering');
    expect(text(page)).toContain('剩余 01:00');
    expect(page.data.questions.map((q: { id: string }) => q.id)).toEqual(['x2', 'x1']);
    jest.advanceTimersByTime(30_000);
    expect(text(page)).toContain('剩余 00:30');
    page.instance.onUnload();
  });

  test('auto-submits what was chosen when the countdown reaches zero, then shows the result', async () => {
    const page = await open();
    choose(page, 'x1', 'c1');
    jest.advanceTimersByTime(59_000);
    await flush();
    expect(fake.calls('POST', '/api/v1/quizzes/q1/attempts/at1/submit')).toHaveLength(0);
    jest.advanceTimersByTime(1_000);
    await flush(50);
    const submits = fake.calls('POST', '/api/v1/quizzes/q1/attempts/at1/submit');
    expect(submits).toHaveLength(1);
    expect(submits[0].data).toEqual({ answers: [{ questionId: 'x1', choiceId: 'c1' }] });
    expect(page.data.phase).toBe('done');
    expect(text(page)).toContain('1 / 2');
    expect(text(page)).toContain('获得 10 积分');
    expect(text(page)).toContain('第 3 名');
    jest.advanceTimersByTime(10_000);
    await flush();
    expect(fake.calls('POST', '/api/v1/quizzes/q1/attempts/at1/submit')).toHaveLength(1); // once
  });

  test('back from the background past the deadline: onShow submits at once', async () => {
    const page = await open();
    choose(page, 'x2', 'c4');
    jest.setSystemTime(Date.now() + 90_000); // timers did not run while hidden
    page.instance.onShow();
    await flush(50);
    expect(fake.calls('POST', '/api/v1/quizzes/q1/attempts/at1/submit')).toHaveLength(1);
    expect(page.data.phase).toBe('done');
  });

  test('a late submit (409 attempt_expired) shows 时间到', async () => {
    fake.on('POST', '/api/v1/quizzes/q1/attempts/at1/submit', () => ({ status: 409, data: { error: { code: 'attempt_expired', message: '已超时' } } }));
    const page = await open();
    await page.instance.onSubmit();
    await flush(50);
    expect(page.data.phase).toBe('expired');
    expect(text(page)).toContain('时间到');
    expect(has(page, '.submit')).toBe(false);
  });

  test('no attempts left (409 attempts_exhausted) offers the leaderboard', async () => {
    fake.on('POST', '/api/v1/quizzes/q1/attempts', () => ({ status: 409, data: { error: { code: 'attempts_exhausted', message: '次数已用完' } } }));
    const page = await open();
    expect(page.data.phase).toBe('exhausted');
    expect(text(page)).toContain('答题次数已用完');
    expect(text(page)).toContain('看排行榜');
    page.instance.onLeaderboard();
    expect(fake.navigations).toEqual(['/pkg-quiz/pages/leaderboard/leaderboard?id=q1']);
  });

  test('a submit whose answer was lost: the 409 already_submitted carries the result, which is shown', async () => {
    fake.on('POST', '/api/v1/quizzes/q1/attempts/at1/submit', () => ({
      status: 409,
      data: { error: { code: 'already_submitted', message: '已交卷' }, result: RESULT },
    }));
    const page = await open();
    await page.instance.onSubmit();
    await flush(50);
    expect(page.data.phase).toBe('done');
    expect(text(page)).toContain('1 / 2');
  });

  test('reopening the page resumes the same attempt with the answers chosen so far', async () => {
    const first = await open();
    choose(first, 'x1', 'c2');
    first.instance.onUnload();
    jest.advanceTimersByTime(10_000);
    const second = await open();
    expect(fake.calls('POST', '/api/v1/quizzes/q1/attempts')).toHaveLength(1);
    const x1 = second.data.questions.find((q: { id: string }) => q.id === 'x1');
    expect(x1.chosen).toBe('c2');
    expect(text(second)).toContain('剩余 00:50');
    second.instance.onUnload();
  });

  test('a failed submit (network) keeps the attempt so the user can submit again', async () => {
    let n = 0;
    fake.on('POST', '/api/v1/quizzes/q1/attempts/at1/submit', () => (++n === 1 ? { networkError: 'timeout' } : { status: 200, data: RESULT }));
    const page = await open();
    await page.instance.onSubmit();
    await flush(50);
    expect(page.data.phase).toBe('answering');
    expect(fake.toasts.length).toBe(1);
    await page.instance.onSubmit();
    await flush(50);
    expect(page.data.phase).toBe('done');
  });
});
