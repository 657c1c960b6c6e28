// One function per endpoint of API.md that the console uses; shapes as the server answers them.
import { http } from './http'
import type { Role } from '../session'

export interface Money { amount: number; currency: 'CNY' }
export interface Page<T> { items: T[]; nextCursor: string | null }

export interface LoginAnswer {
  token: string
  expiresIn: number
  merchant: { id: string; name: string }
  role: Role
  mustChangePassword?: boolean
}
export const login = (username: string, password: string) =>
  http.post<LoginAnswer>('/admin/login', { username, password })
export const logout = () => http.post<null>('/admin/logout')
export const changePassword = (current: string, next: string) =>
  http.post<null>('/admin/password', { current, new: next })

export type ItemKind = 'article' | 'course' | 'product' | 'quiz' | 'membership'
export type ItemStatus = 'draft' | 'published' | 'archived'
export interface AdminItem {
  id: string; kind: ItemKind; title: string; summary: string; body: string; preview: string | null
  coverUrl: string | null; tags: string[]; price: Money | null; membershipDays: number | null
  status: ItemStatus; createdAt: string; updatedAt: string
}
export const listItems = (q: { status?: string; cursor?: string | null; limit?: number }) =>
  http.get<Page<AdminItem>>('/admin/items', q)
export const getItem = (id: string) => http.get<AdminItem>(`/admin/items/${id}`)
export const createItem = (body: Partial<AdminItem>) => http.post<AdminItem>('/admin/items', body)
export const updateItem = (id: string, body: Partial<AdminItem>) => http.patch<AdminItem>(`/admin/items/${id}`, body)
export const archiveItem = (id: string) => http.del<null>(`/admin/items/${id}`)
export const uploadMedia = (file: File) => {
  const form = new FormData()
  form.append('file', file)
  return http.upload<{ id: string; url: string }>('/admin/media', form)
}

export interface Choice { id?: string; text: string; correct: boolean }
export interface Question { id?: string; text: string; tags: string[]; choices: Choice[] }
export interface AdminQuiz {
  id?: string; title: string; timeLimitSec: number; maxAttempts: number; pointsPerCorrect: number
  startAt: string | null; endAt: string | null; status: ItemStatus; questions: Question[]
  questionCount?: number; updatedAt?: string
}
export const listQuizzes = (q: { cursor?: string | null; limit?: number }) => http.get<Page<AdminQuiz>>('/admin/quizzes', q)
export const getQuiz = (id: string) => http.get<AdminQuiz>(`/admin/quizzes/${id}`)
export const createQuiz = (body: AdminQuiz) => http.post<AdminQuiz>('/admin/quizzes', body)
export const updateQuiz = (id: string, body: Partial<AdminQuiz>) => http.patch<AdminQuiz>(`/admin/quizzes/${id}`, body)

export type OrderStatus = 'pending' | 'paid' | 'closed' | 'refunding' | 'refunded'
export interface AdminOrder {
  id: string; status: OrderStatus; itemId: string; amount: Money; refunded: Money; createdAt: string
  paidAt: string | null; userId: string; outTradeNo: string; transactionId: string | null; review: string | null
}
export interface OrderPage { orders?: AdminOrder[]; items?: AdminOrder[]; nextCursor: string | null }
export const listOrders = (q: { status?: string; cursor?: string | null; limit?: number }) =>
  http.get<OrderPage>('/admin/orders', q)
export const refundOrder = (id: string, amount: number | undefined, reason: string) =>
  http.post<AdminOrder>(`/admin/orders/${id}/refund`, amount === undefined ? { reason } : { amount, reason })

export interface OverviewPoint {
  t: string; revenue: number; orders: number; refunds: number; buyers: number; impressions: number; clicks: number
  quizAttempts: number
}
export interface Overview {
  bucket: 'hour' | 'day'; from: string; to: string; series: OverviewPoint[]
  totals: Omit<OverviewPoint, 't'> & { newUsers: number }
}
export const overview = (q: { from?: string; to?: string; bucket: 'hour' | 'day' }) =>
  http.get<Overview>('/admin/stats/overview', q)
