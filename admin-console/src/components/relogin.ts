import { reactive } from 'vue'

// The state of the re-login dialog, shared by the HTTP wrapper (which opens it) and the dialog (which closes it).
const state = reactive({ visible: false })
let waiting: ((token: string | null) => void)[] = []

export const relogin = {
  state,
  /** Opens the dialog; resolves with the new token, or null when the person cancels. */
  open(): Promise<string | null> {
    state.visible = true
    return new Promise((resolve) => waiting.push(resolve))
  },
  finish(token: string | null) {
    state.visible = false
    const all = waiting
    waiting = []
    all.forEach((resolve) => resolve(token))
  },
}
