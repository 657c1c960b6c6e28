import { reactive } from 'vue'

export type Role = 'owner' | 'editor' | 'analyst'

export interface Session {
  token: string | null
  username: string | null
  role: Role | null
  merchant: { id: string; name: string } | null
  mustChangePassword: boolean
}

const KEY = 'wxmp.admin.session'

function load(): Session {
  try {
    const raw = sessionStorage.getItem(KEY)
    if (raw) return JSON.parse(raw) as Session
  } catch {
    // a broken entry is the same as none
  }
  return { token: null, username: null, role: null, merchant: null, mustChangePassword: false }
}

/** The signed-in merchant account, kept per browser tab (sessionStorage): closing the tab signs out. */
export const session = reactive<Session>(load())

export function saveSession(next: Partial<Session>): void {
  Object.assign(session, next)
  sessionStorage.setItem(KEY, JSON.stringify(session))
}

export function clearSession(): void {
  saveSession({ token: null, role: null, merchant: null, mustChangePassword: false })
}

export const ROLE_NAMES: Record<Role, string> = { owner: '所有者', editor: '编辑', analyst: '分析员' }

/** Owners and editors write; analysts only read. */
export function canWrite(): boolean {
  return session.role === 'owner' || session.role === 'editor'
}

export function isOwner(): boolean {
  return session.role === 'owner'
}
