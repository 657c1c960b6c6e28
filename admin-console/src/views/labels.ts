export const KIND_NAMES: Record<string, string> = {
  article: '文章', course: '课程', product: '商品', quiz: '问答', membership: '会员',
}
export const STATUS_NAMES: Record<string, string> = { draft: '草稿', published: '已发布', archived: '已归档' }
export const ORDER_STATUS_NAMES: Record<string, string> = {
  pending: '待支付', paid: '已支付', closed: '已关闭', refunding: '退款中', refunded: '已退款',
}
