// Unsaved editor input, kept in localStorage per account and document, so that neither a re-login nor a closed tab
// loses it. A draft is dropped once the server has the saved version.
import { session } from '../session'

interface Stored<T> { savedAt: number; value: T }

function key(kind: string, id: string): string {
  return `wxmp.draft.${session.merchant?.id ?? '-'}.${session.username ?? '-'}.${kind}.${id}`
}

export function saveDraft<T>(kind: string, id: string, value: T): void {
  try {
    localStorage.setItem(key(kind, id), JSON.stringify({ savedAt: Date.now(), value } satisfies Stored<T>))
  } catch {
    // storage full or disabled: the editor still works, without the safety net
  }
}

export function loadDraft<T>(kind: string, id: string): Stored<T> | null {
  try {
    const raw = localStorage.getItem(key(kind, id))
    return raw ? (JSON.parse(raw) as Stored<T>) : null
  } catch {
    return null
  }
}

export function dropDraft(kind: string, id: string): void {
  localStorage.removeItem(key(kind, id))
}
