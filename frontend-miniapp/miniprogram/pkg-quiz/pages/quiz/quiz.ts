import { ApiError } from '../../../core/errors';
import { endScope, errorText, scopeOf, toast } from '../../../core/page';
import { getQuiz, startAttempt, submitAttempt } from '../../../services/api';
import type { QuizQuestion, SubmitResult } from '../../../services/types';
import { clock } from '../../../utils/format';

/**
 * A quiz attempt. The countdown runs from the server's deadline: the time left is `deadline - startedAt` as the
 * server answered, counted from when the answer arrived (no local clock of its own), recomputed on every tick and on
 * onShow (the deadline runs on while the app is in the background). At zero the answers chosen so far are submitted
 * (the server accepts a submit WXMP_QUIZ_SUBMIT_GRACE_MS after the deadline). Chosen answers are kept in storage
 * under the attempt, so reopening the page resumes it. 409s: attempt_expired → 时间到, attempts_exhausted → the
 * leaderboard, already_submitted → the stored result the server sends with it.
 */
type Phase = 'loading' | 'answering' | 'submitting' | 'done' | 'expired' | 'exhausted' | 'error';

interface Stored {
  attemptId: string;
  localDeadline: number;
  questions: QuizQuestion[];
  answers: Record<string, string>;
}

interface QuizState {
  quizId: string;
  attempt: Stored | null;
  timer: ReturnType<typeof setInterval> | null;
}

const ATTEMPT_KEY = 'wxmp.quizAttempt.';
const states = new WeakMap<object, QuizState>();
function st(page: object): QuizState {
  let s = states.get(page);
  if (!s) {
    s = { quizId: '', attempt: null, timer: null };
    states.set(page, s);
  }
  return s;
}

interface QuestionView {
  id: string;
  text: string;
  chosen: string;
  choices: Array<{ id: string; text: string; mark: string }>;
}

function view(questions: QuizQuestion[], answers: Record<string, string>, result: SubmitResult | null): QuestionView[] {
  const byQ = new Map((result?.results ?? []).map((r) => [r.questionId, r]));
  return questions.map((q) => ({
    id: q.id,
    text: q.text,
    chosen: answers[q.id] ?? '',
    choices: q.choices.map((c) => {
      const r = byQ.get(q.id);
      let mark = '';
      if (r) mark = c.id === r.correctChoiceId ? 'correct' : c.id === answers[q.id] ? 'wrong' : '';
      return { id: c.id, text: c.text, mark };
    }),
  }));
}

function resultOf(e: ApiError): SubmitResult | null {
  const body = e.body as { result?: SubmitResult; error?: { result?: SubmitResult } } | null;
  return body?.result ?? body?.error?.result ?? null;
}

Component({
  data: {
    phase: 'loading' as Phase,
    title: '',
    questions: [] as QuestionView[],
    remainingMs: 0,
    remainingText: '',
    answered: 0,
    result: null as SubmitResult | null,
    message: '',
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      st(this).quizId = query.id ?? '';
      return this.begin();
    },

    onShow() {
      if (st(this).attempt && this.data.phase === 'answering') this.tick();
    },

    onUnload() {
      this.stopTimer();
      endScope(this);
    },

    async begin() {
      const s = st(this);
      try {
        const quiz = await getQuiz(s.quizId, scopeOf(this));
        this.setData({ title: quiz.title });
        const stored = wx.getStorageSync(ATTEMPT_KEY + s.quizId) as Stored | '';
        if (stored && stored.attemptId && stored.localDeadline > Date.now()) {
          s.attempt = stored; // resume: same attempt, same answers
        } else {
          const receivedAt = Date.now();
          const a = await startAttempt(s.quizId, scopeOf(this));
          const left = new Date(a.deadline).getTime() - new Date(a.startedAt).getTime();
          s.attempt = {
            attemptId: a.attemptId,
            localDeadline: receivedAt + Math.max(0, left),
            questions: a.questions ?? quiz.questions,
            answers: {},
          };
          this.save();
        }
        this.setData({ phase: 'answering', questions: view(s.attempt.questions, s.attempt.answers, null), answered: Object.keys(s.attempt.answers).length });
        this.startTimer();
      } catch (e) {
        if (e instanceof ApiError && e.aborted) return;
        if (e instanceof ApiError && e.code === 'attempts_exhausted') {
          this.setData({ phase: 'exhausted', message: '答题次数已用完' });
          return;
        }
        this.setData({ phase: 'error', message: errorText(e) });
      }
    },

    save() {
      const s = st(this);
      if (s.attempt) wx.setStorageSync(ATTEMPT_KEY + s.quizId, s.attempt);
    },

    startTimer() {
      this.stopTimer();
      st(this).timer = setInterval(() => this.tick(), 1000);
      this.tick();
    },

    stopTimer() {
      const s = st(this);
      if (s.timer) clearInterval(s.timer);
      s.timer = null;
    },

    tick() {
      const s = st(this);
      if (!s.attempt || this.data.phase !== 'answering') return;
      const left = s.attempt.localDeadline - Date.now();
      this.setData({ remainingMs: Math.max(0, left), remainingText: clock(left) });
      if (left <= 0) {
        void this.submit(true);
      }
    },

    onChoose(e: WechatMiniprogram.TouchEvent) {
      const s = st(this);
      const { question, choice } = e.currentTarget.dataset as { question: string; choice: string };
      if (!s.attempt || this.data.phase !== 'answering') return;
      s.attempt.answers[question] = choice;
      this.save();
      this.setData({ questions: view(s.attempt.questions, s.attempt.answers, null), answered: Object.keys(s.attempt.answers).length });
    },

    onSubmit() {
      return this.submit(false);
    },

    async submit(auto: boolean) {
      const s = st(this);
      if (!s.attempt || this.data.phase !== 'answering') return;
      this.stopTimer();
      this.setData({ phase: 'submitting', message: auto ? '时间到，正在交卷…' : '' });
      const attempt = s.attempt;
      const answers = Object.keys(attempt.answers).map((questionId) => ({ questionId, choiceId: attempt.answers[questionId] }));
      try {
        const result = await submitAttempt(s.quizId, attempt.attemptId, answers, scopeOf(this));
        this.finish(result);
      } catch (e) {
        if (e instanceof ApiError && e.aborted) return;
        if (e instanceof ApiError && e.code === 'already_submitted' && resultOf(e)) {
          this.finish(resultOf(e)!);
        } else if (e instanceof ApiError && e.code === 'attempt_expired') {
          wx.removeStorageSync(ATTEMPT_KEY + s.quizId);
          this.setData({ phase: 'expired', message: '时间到，本次作答已超时' });
        } else {
          // keep the attempt: the user can submit again
          this.setData({ phase: 'answering', message: '' });
          toast(e);
          this.startTimer();
        }
      }
    },

    finish(result: SubmitResult) {
      const s = st(this);
      const answers = s.attempt?.answers ?? {};
      wx.removeStorageSync(ATTEMPT_KEY + s.quizId);
      this.setData({ phase: 'done', result, questions: view(s.attempt?.questions ?? [], answers, result), message: '' });
    },

    onLeaderboard() {
      wx.navigateTo({ url: `/pkg-quiz/pages/leaderboard/leaderboard?id=${encodeURIComponent(st(this).quizId)}` });
    },
  },
});
