import { endScope, errorText, scopeOf } from '../../../core/page';
import { listItems } from '../../../services/api';
import { Entry, toEntry } from '../../../utils/entry';

/** The catalogue (GET /items), newest first, by tag: the tags of what is listed become the filter chips. */
const cursors = new WeakMap<object, { cursor: string | null; busy: boolean }>();
function st(page: object) {
  let s = cursors.get(page);
  if (!s) {
    s = { cursor: null, busy: false };
    cursors.set(page, s);
  }
  return s;
}

Component({
  data: {
    tag: '',
    tags: [] as string[],
    entries: [] as Entry[],
    loading: false,
    end: false,
    empty: false,
    error: '',
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ tag: query.tag ? decodeURIComponent(query.tag) : '' });
      return this.reload();
    },
    onReachBottom() {
      return this.loadMore();
    },
    onUnload() {
      endScope(this);
    },
    reload() {
      const s = st(this);
      s.cursor = null;
      this.setData({ entries: [], end: false, empty: false, error: '' });
      return this.loadMore();
    },
    async loadMore() {
      const s = st(this);
      if (s.busy || this.data.end) return;
      s.busy = true;
      this.setData({ loading: true });
      try {
        const page = await listItems({ tag: this.data.tag || null, cursor: s.cursor }, scopeOf(this));
        s.cursor = page.nextCursor;
        const have = new Set(this.data.entries.map((e) => e.id));
        const entries = this.data.entries.concat(page.items.filter((i) => !have.has(i.id)).map(toEntry));
        const tags = new Set(this.data.tags);
        entries.forEach((e) => e.tags.forEach((t) => tags.add(t)));
        this.setData({ entries, tags: [...tags].slice(0, 20), loading: false, end: page.nextCursor == null, empty: entries.length === 0 });
      } catch (e) {
        const text = errorText(e);
        if (text) this.setData({ loading: false, error: text });
      } finally {
        s.busy = false;
      }
    },
    onChip(e: WechatMiniprogram.TouchEvent) {
      const tag = (e.currentTarget.dataset as { tag?: string }).tag ?? '';
      this.setData({ tag: tag === this.data.tag ? '' : tag });
      return this.reload();
    },
    onPick(e: WechatMiniprogram.CustomEvent<{ id: string }>) {
      const entry = this.data.entries.find((x) => x.id === e.detail.id);
      if (!entry) return;
      const url = entry.kind === 'quiz' ? `/pkg-quiz/pages/quiz/quiz?id=${encodeURIComponent(entry.id)}` : `/pkg-content/pages/item/item?id=${encodeURIComponent(entry.id)}`;
      wx.navigateTo({ url });
    },
  },
});
