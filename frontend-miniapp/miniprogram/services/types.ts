// Shapes from API.md (the contract) and the server's openapi.yaml.
export interface Money {
  amount: number;
  currency: string;
}

export type ItemKind = 'article' | 'course' | 'product' | 'quiz' | 'membership';

export interface Reason {
  kind: 'similar' | 'trending' | 'new' | 'explore' | 'sponsored' | 'popular_with_tag';
  becauseOf: { itemId: string; title: string } | null;
  tag: string | null;
}

export interface FeedItem {
  id: string;
  kind: ItemKind;
  title: string;
  summary: string;
  coverUrl: string | null;
  tags: string[];
  price: Money | null;
  locked: boolean;
  sponsored: boolean;
  campaignId: string | null;
  reason?: Reason | null;
  token?: string;
}

export interface Item extends FeedItem {
  preview: string | null;
  body: string | null;
  membershipDays?: number | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Me {
  id: string;
  nickname: string | null;
  avatarUrl: string | null;
  phoneBound: boolean;
  points: number;
  memberUntil: string | null;
  personalised?: boolean;
}

export interface OwnedItem {
  item: FeedItem;
  source: 'purchase' | 'membership';
  since: string;
}

export type OrderStatus = 'pending' | 'paid' | 'closed' | 'refunding' | 'refunded';

export interface PayParams {
  appId?: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: string;
  paySign: string;
}

export interface Order {
  id: string;
  status: OrderStatus;
  itemId: string;
  amount: Money;
  createdAt?: string;
  paidAt?: string | null;
  payParams?: PayParams;
}

export interface QuizChoice {
  id: string;
  text: string;
}

export interface QuizQuestion {
  id: string;
  text: string;
  choices: QuizChoice[];
}

export interface Quiz {
  id: string;
  title: string;
  timeLimitSec: number;
  maxAttempts: number;
  pointsPerCorrect?: number;
  questions: QuizQuestion[];
}

export interface QuizSummary {
  id: string;
  title: string;
  timeLimitSec: number;
  maxAttempts: number;
  questionCount: number;
  endAt: string | null;
}

export interface Attempt {
  attemptId: string;
  startedAt: string;
  deadline: string;
  questions?: QuizQuestion[];
}

export interface SubmitResult {
  score: number;
  total: number;
  results: Array<{ questionId: string; correct: boolean; correctChoiceId: string }>;
  pointsAwarded: number;
  durationMs?: number;
  rank: number | null;
}

export interface LeaderboardEntry {
  rank: number;
  userId: string;
  nickname: string | null;
  score: number;
  durationMs: number;
}

export interface Leaderboard {
  entries: LeaderboardEntry[];
  me: LeaderboardEntry | null;
}
