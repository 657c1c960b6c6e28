import { endScope, errorText, scopeOf } from '../../../core/page';
import { listQuizzes } from '../../../services/api';
import type { QuizSummary } from '../../../services/types';

/** The quizzes open now (GET /quizzes). */
Component({
  data: { loading: true, error: '', quizzes: [] as Array<QuizSummary & { limitText: string }> },
  methods: {
    async onLoad() {
      try {
        const page = await listQuizzes(null, scopeOf(this));
        this.setData({
          loading: false,
          quizzes: page.items.map((q) => ({ ...q, limitText: `${q.questionCount} 题 · 限时 ${Math.round(q.timeLimitSec / 60) || 1} 分钟` })),
        });
      } catch (e) {
        const text = errorText(e);
        if (text) this.setData({ loading: false, error: text });
      }
    },
    onUnload() {
      endScope(this);
    },
    onPick(e: WechatMiniprogram.TouchEvent) {
      const id = (e.currentTarget.dataset as { id: string }).id;
      wx.navigateTo({ url: `/pkg-quiz/pages/quiz/quiz?id=${encodeURIComponent(id)}` });
    },
  },
});
