import { events, track } from '../../core/events';
import { endScope, errorText, rememberToken, scopeOf, toast } from '../../core/page';
import { getFeed } from '../../services/api';
import { Entry, toEntry } from '../../utils/entry';

/**
 * The feed tab: GET /feed pages (onReachBottom loads the next, pull-down starts a new feed), entries deduplicated by
 * id, sponsored ones labelled, each with its Reason. Impressions come from an intersection observer on the cards,
 * clicks from taps; both carry the entry's token.
 */
interface FeedState {
  cursor: string | null;
  seen: Set<string>;
  impressed: Set<string>;
  busy: Promise<void> | null;
  /** Bumped by a refresh: an answer for an older feed is dropped. */
  generation: number;
  observer: WechatMiniprogram.IntersectionObserver | null;
}

const states = new WeakMap<object, FeedState>();
function st(page: object): FeedState {
  let s = states.get(page);
  if (!s) {
    s = { cursor: null, seen: new Set(), impressed: new Set(), busy: null, generation: 0, observer: null };
    states.set(page, s);
  }
  return s;
}

Component({
  data: {
    entries: [] as Entry[],
    loading: false,
    end: false,
    empty: false,
    error: '',
  },
  methods: {
    onLoad() {
      return this.refresh();
    },

    onPullDownRefresh() {
      return this.refresh().finally(() => wx.stopPullDownRefresh());
    },

    onReachBottom() {
      return this.loadMore();
    },

    onHide() {
      void events.flush();
    },

    onUnload() {
      st(this).observer?.disconnect();
      endScope(this);
      void events.flush();
    },

    /** A new feed: the server starts one for a request without a cursor. */
    refresh(): Promise<void> {
      const s = st(this);
      s.cursor = null;
      s.seen.clear();
      s.impressed.clear();
      s.generation += 1;
      this.setData({ entries: [], end: false, empty: false, error: '' });
      s.busy = null;
      return this.loadMore(true);
    },

    loadMore(first = false): Promise<void> {
      const s = st(this);
      if (s.busy) return s.busy;
      if (!first && (this.data.end || this.data.error)) return Promise.resolve();
      this.setData({ loading: true });
      const generation = s.generation;
      const run = (async () => {
        try {
          const page = await getFeed(s.cursor, scopeOf(this));
          if (generation !== s.generation) return; // a pull-down started a new feed meanwhile
          const fresh = page.items.filter((i) => !s.seen.has(i.id));
          fresh.forEach((i) => {
            s.seen.add(i.id);
            rememberToken(i.id, i.token);
          });
          s.cursor = page.nextCursor;
          const entries = this.data.entries.concat(fresh.map(toEntry));
          this.setData({ entries, loading: false, end: page.nextCursor == null, empty: entries.length === 0 });
          this.observeCards();
        } catch (e) {
          const text = errorText(e);
          if (text && generation === s.generation) {
            this.setData({ loading: false, error: text });
            toast(text);
          }
        } finally {
          if (generation === s.generation) s.busy = null;
        }
      })();
      s.busy = run;
      return run;
    },

    retry() {
      this.setData({ error: '' });
      return this.loadMore();
    },

    observeCards() {
      const s = st(this);
      const self = this as unknown as { createIntersectionObserver?: (o: object) => WechatMiniprogram.IntersectionObserver };
      if (typeof self.createIntersectionObserver !== 'function') return;
      s.observer?.disconnect();
      try {
        s.observer = self.createIntersectionObserver({ observeAll: true, thresholds: [0.5] });
        s.observer.relativeToViewport().observe('.feed-card', (res) => {
          const id = (res.dataset as { id?: string } | undefined)?.id;
          if (id && res.intersectionRatio >= 0.5) this.onCardVisible(id);
        });
      } catch {
        s.observer = null; // no observer (an old base library): no impressions, nothing else changes
      }
    },

    /** Half a card came into view: one impression per entry per feed. */
    onCardVisible(id: string) {
      const s = st(this);
      if (s.impressed.has(id)) return;
      const entry = this.data.entries.find((e) => e.id === id);
      if (!entry) return;
      s.impressed.add(id);
      track({ itemId: id, type: 'impression', token: entry.token });
    },

    onPick(e: WechatMiniprogram.CustomEvent<{ id: string }>) {
      const id = e.detail.id ?? (e.currentTarget.dataset as { id?: string }).id;
      const entry = this.data.entries.find((x) => x.id === id);
      if (!entry) return;
      track({ itemId: id, type: 'click', token: entry.token });
      const url = entry.kind === 'quiz' ? `/pkg-quiz/pages/quiz/quiz?id=${encodeURIComponent(id)}` : `/pkg-content/pages/item/item?id=${encodeURIComponent(id)}`;
      wx.navigateTo({ url });
    },

    onTag(e: WechatMiniprogram.TouchEvent) {
      const tag = (e.currentTarget.dataset as { tag?: string }).tag ?? '';
      wx.navigateTo({ url: `/pkg-content/pages/catalogue/catalogue?tag=${encodeURIComponent(tag)}` });
    },
  },
});
