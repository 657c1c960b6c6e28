import { api } from './http';
import { ApiError } from './errors';

/**
 * Client events (API.md `POST /events`): impressions, clicks, dwell, complete, share, like. Queued and sent in
 * batches: at 20 events, 10 s after the first queued one, and when the app or page hides; at most 100 per request.
 * A batch that fails for a reason worth retrying (network, 5xx, 429) is sent once more with the same ids (the server
 * counts repeats as duplicates), then dropped; a 4xx is dropped at once. Tracking never throws and never blocks.
 */
export type EventType = 'impression' | 'click' | 'like' | 'share' | 'dwell' | 'complete';

export interface ClientEvent {
  id: string;
  itemId: string;
  type: EventType;
  at: string;
  dwellMs?: number;
  token?: string;
  ref?: string;
}

export interface TrackInput {
  itemId: string;
  type: EventType;
  dwellMs?: number;
  token?: string | null;
  ref?: string | null;
}

export type Poster = (batch: ClientEvent[]) => Promise<unknown>;

export const BATCH_SIZE = 20;
export const FLUSH_INTERVAL_MS = 10000;
export const MAX_PER_REQUEST = 100;
export const RETRY_DELAY_MS = 2000;

let seq = 0;
function eventId(): string {
  seq = (seq + 1) % 1e6;
  return `e${Date.now().toString(36)}${seq.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

export class EventQueue {
  private queue: ClientEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly inflight = new Set<Promise<void>>();
  sent = 0;
  dropped = 0;

  constructor(private readonly post: Poster) {}

  get pending(): number {
    return this.queue.length;
  }

  track(input: TrackInput): void {
    const e: ClientEvent = { id: eventId(), itemId: input.itemId, type: input.type, at: new Date().toISOString() };
    if (input.dwellMs != null) e.dwellMs = Math.max(0, Math.round(input.dwellMs));
    if (input.token) e.token = input.token;
    if (input.ref) e.ref = input.ref;
    this.queue.push(e);
    if (this.queue.length >= BATCH_SIZE) {
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, FLUSH_INTERVAL_MS);
    }
  }

  /**
   * Sends everything queued now; resolves when those requests and any still in flight from an earlier flush (a page's
   * onUnload, say) are done. Never rejects.
   */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const all = this.queue;
    this.queue = [];
    for (let i = 0; i < all.length; i += MAX_PER_REQUEST) {
      const send = this.sendBatch(all.slice(i, i + MAX_PER_REQUEST));
      this.inflight.add(send);
      void send.then(() => this.inflight.delete(send));
    }
    return Promise.all([...this.inflight]).then(() => undefined);
  }

  private async sendBatch(batch: ClientEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.post(batch);
        this.sent += batch.length;
        return;
      } catch (e) {
        const retriable = !(e instanceof ApiError) || e.status === 0 || e.status === 429 || e.status >= 500;
        if (attempt >= 2 || !retriable || (e instanceof ApiError && e.aborted)) {
          this.dropped += batch.length;
          return;
        }
        await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
      }
    }
  }
}

/** The app's queue. */
export const events = new EventQueue((batch) => api({ method: 'POST', path: '/events', data: { events: batch } }));

export function track(input: TrackInput): void {
  try {
    events.track(input);
  } catch {
    // tracking must never break a page
  }
}
