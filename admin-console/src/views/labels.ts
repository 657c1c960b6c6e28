export const KIND_NAMES: Record<string, string> = {
  article: '文章', course: '课程', product: '商品', quiz: '问答', membership: '会员',
}
export const STATUS_NAMES: Record<string, string> = { draft: '草稿', published: '已发布', archived: '已归档' }
export const ORDER_STATUS_NAMES: Record<string, string> = {
  pending: '待支付', paid: '已支付', closed: '已关闭', refunding: '退款中', refunded: '已退款',
}
export const CAMPAIGN_STATUS_NAMES: Record<string, string> = {
  draft: '草稿', active: '投放中', paused: '已暂停', ended: '已结束',
}
/** The audit log's actions (the server's action codes, Audit.record) in the console's words. */
export const AUDIT_ACTION_NAMES: Record<string, string> = {
  'account.create': '创建账号', 'account.update': '修改账号', 'account.password': '修改密码',
  'item.create': '创建内容', 'item.update': '修改内容', 'item.archive': '归档内容', 'media.upload': '上传图片',
  'quiz.create': '创建问答', 'quiz.update': '修改问答', 'campaign.create': '创建推广', 'campaign.update': '修改推广',
  'order.refund': '退款', 'merchant.create': '开通商户', 'merchant.status': '商户状态变更',
}
export const AUDIT_TARGET_NAMES: Record<string, string> = {
  account: '账号', item: '内容', media: '图片', quiz: '问答', campaign: '推广', order: '订单', merchant: '商户',
}
