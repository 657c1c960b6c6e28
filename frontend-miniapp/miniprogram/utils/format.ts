import type { Money, Reason } from '../services/types';

/** Fen to "¥9.90" without floating-point surprises. */
export function formatMoney(m: Money | null | undefined): string {
  if (!m) return '免费';
  const fen = Math.round(m.amount);
  return `¥${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/** The line under a feed card saying why it is there. */
export function reasonText(r: Reason | null | undefined): string {
  if (!r) return '';
  switch (r.kind) {
    case 'similar':
      return r.becauseOf ? `因为你读过《${r.becauseOf.title}》` : '和你读过的内容相似';
    case 'trending':
      return '大家都在看';
    case 'new':
      return '新上架';
    case 'explore':
      return '发现新内容';
    case 'sponsored':
      return '推广';
    case 'popular_with_tag':
      return r.tag ? `#${r.tag} 热门` : '热门';
    default:
      return '';
  }
}

/** mm:ss for the quiz countdown. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  // Asia/Shanghai, the users' clock
  const t = new Date(d.getTime() + 8 * 3600 * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getUTCFullYear()}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}`;
}
