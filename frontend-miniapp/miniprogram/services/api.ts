/** One function per endpoint of API.md that the mini-program calls. */
import { api } from '../core/http';
import { RequestScope } from '../core/transport';
import type {
  Attempt, FeedItem, Item, Leaderboard, Me, Order, OwnedItem, Page, Quiz, QuizSummary, SubmitResult,
} from './types';

type S = RequestScope | null | undefined;

/** A paged answer: the array is always named `items` (API.md). */
function paged<T>(raw: Record<string, unknown> | null): Page<T> {
  const list = (raw?.items ?? []) as T[];
  return { items: list, nextCursor: (raw?.nextCursor as string | null | undefined) ?? null };
}

// auth and me
export const bindPhone = (code: string, scope?: S) =>
  api<{ phoneBound: boolean; phoneMasked: string }>({ method: 'POST', path: '/auth/phone', data: { code }, scope });
export const logout = () => api<null>({ method: 'POST', path: '/auth/logout' });
export const getMe = (scope?: S) => api<Me>({ path: '/me', scope });
export const patchMe = (patch: { nickname?: string; avatarUrl?: string; personalised?: boolean }, scope?: S) =>
  api<Me>({ method: 'PATCH', path: '/me', data: patch, scope });
export const myItems = async (cursor: string | null, scope?: S) =>
  paged<OwnedItem>(await api<Record<string, unknown>>({ path: '/me/items', query: { limit: 20, cursor }, scope }));
export const exportMe = (scope?: S) => api<Record<string, unknown>>({ path: '/me/export', scope });
export const deleteMe = () => api<null>({ method: 'DELETE', path: '/me' });

// feed and catalogue
export const getFeed = async (cursor: string | null, scope?: S, limit = 20) =>
  paged<FeedItem>(await api<Record<string, unknown>>({ path: '/feed', query: { limit, cursor }, scope }));
export const listItems = async (q: { tag?: string | null; kind?: string | null; cursor?: string | null }, scope?: S) =>
  paged<FeedItem>(await api<Record<string, unknown>>({ path: '/items', query: { tag: q.tag, kind: q.kind, limit: 20, cursor: q.cursor }, scope }));
export const getItem = (id: string, scope?: S) => api<Item>({ path: `/items/${encodeURIComponent(id)}`, scope });

// orders
export const createOrder = (itemId: string, idempotencyKey: string, scope?: S) =>
  api<Order>({ method: 'POST', path: '/orders', data: { itemId }, idempotencyKey, scope });
export const getOrder = (id: string, scope?: S) => api<Order>({ path: `/orders/${encodeURIComponent(id)}`, scope });
export const listOrders = async (cursor: string | null, scope?: S) =>
  paged<Order>(await api<Record<string, unknown>>({ path: '/orders', query: { limit: 20, cursor }, scope }));

// quizzes
export const listQuizzes = async (cursor: string | null, scope?: S) =>
  paged<QuizSummary>(await api<Record<string, unknown>>({ path: '/quizzes', query: { limit: 20, cursor }, scope }));
export const getQuiz = (id: string, scope?: S) => api<Quiz>({ path: `/quizzes/${encodeURIComponent(id)}`, scope });
export const startAttempt = (quizId: string, scope?: S) =>
  api<Attempt>({ method: 'POST', path: `/quizzes/${encodeURIComponent(quizId)}/attempts`, scope });
export const submitAttempt = (quizId: string, attemptId: string, answers: Array<{ questionId: string; choiceId: string }>, scope?: S) =>
  api<SubmitResult>({
    method: 'POST',
    path: `/quizzes/${encodeURIComponent(quizId)}/attempts/${encodeURIComponent(attemptId)}/submit`,
    data: { answers },
    scope,
  });
export const getAttempt = (quizId: string, attemptId: string, scope?: S) =>
  api<Attempt & { status: string; result: SubmitResult | null }>({
    path: `/quizzes/${encodeURIComponent(quizId)}/attempts/${encodeURIComponent(attemptId)}`,
    scope,
  });
export const getLeaderboard = (quizId: string, scope?: S) =>
  api<Leaderboard>({ path: `/quizzes/${encodeURIComponent(quizId)}/leaderboard`, query: { limit: 50 }, scope });
