import { endScope, errorText, scopeOf } from '../../../core/page';
import { getLeaderboard } from '../../../services/api';
import type { LeaderboardEntry } from '../../../services/types';

/** The board: higher score first, then shorter time; the user's own entry pinned at the bottom. */
interface Row extends LeaderboardEntry {
  name: string;
  time: string;
  mine: boolean;
}

function row(e: LeaderboardEntry, myId: string | null): Row {
  return { ...e, name: e.nickname || `用户${e.userId.slice(-4)}`, time: `${(e.durationMs / 1000).toFixed(1)}s`, mine: e.userId === myId };
}

Component({
  data: { loading: true, error: '', rows: [] as Row[], me: null as Row | null },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      try {
        const board = await getLeaderboard(query.id ?? '', scopeOf(this));
        const myId = board.me?.userId ?? null;
        this.setData({ loading: false, rows: board.entries.map((e) => row(e, myId)), me: board.me ? row(board.me, myId) : null });
      } catch (e) {
        const text = errorText(e);
        if (text) this.setData({ loading: false, error: text });
      }
    },
    onUnload() {
      endScope(this);
    },
  },
});
