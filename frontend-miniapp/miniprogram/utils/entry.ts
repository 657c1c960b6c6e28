import { canSell } from '../core/platform';
import type { FeedItem } from '../services/types';
import { formatMoney, reasonText } from './format';

/** A FeedItem as a card shows it: no price for what may not be sold on this device (iOS, virtual goods). */
export interface Entry extends FeedItem {
  reasonText: string;
  priceText: string;
  ownedText: string;
}

export function toEntry(item: FeedItem): Entry {
  const priced = item.locked && item.price != null;
  return {
    ...item,
    reasonText: item.sponsored ? '推广' : reasonText(item.reason),
    priceText: priced && canSell(item.kind) ? formatMoney(item.price) : '',
    ownedText: item.price != null && !item.locked ? '已拥有' : '',
  };
}
