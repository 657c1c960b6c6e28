/**
 * The privacy agreement (enforced since 2023-10-17): when a privacy API (phone number, avatar, nickname, clipboard)
 * needs consent, WeChat calls the handler given to wx.onNeedPrivacyAuthorization with a `resolve`. The app registers
 * that once (app.ts) and hands it to whichever privacy-popup is on screen. The popup's agree button has
 * open-type="agreePrivacyAuthorization"; declining resolves `disagree`, and the API that asked then fails, so every
 * flow must go on without it. Nothing waits for the popup.
 */
export interface PrivacyAnswer {
  event: 'agree' | 'disagree';
  buttonId?: string;
}

type Resolve = (answer: PrivacyAnswer) => void;
type Listener = (showing: boolean) => void;

let pending: Resolve | null = null;
const listeners = new Set<Listener>();

export function installPrivacyBridge(): void {
  const w = wx as unknown as { onNeedPrivacyAuthorization?: (h: (resolve: Resolve) => void) => void };
  if (typeof w.onNeedPrivacyAuthorization !== 'function') return;
  w.onNeedPrivacyAuthorization((resolve) => {
    if (pending) pending({ event: 'disagree' }); // a newer request replaces an unanswered one
    pending = resolve;
    listeners.forEach((l) => l(true));
  });
}

/** A popup subscribes; it is told at once if a request is already waiting. Returns the unsubscribe. */
export function onPrivacyRequest(listener: Listener): () => void {
  listeners.add(listener);
  if (pending) listener(true);
  return () => listeners.delete(listener);
}

export function answerPrivacy(agree: boolean, buttonId?: string): void {
  const resolve = pending;
  pending = null;
  if (resolve) resolve(agree ? { event: 'agree', buttonId } : { event: 'disagree' });
  listeners.forEach((l) => l(false));
}

export function privacyPending(): boolean {
  return pending != null;
}
