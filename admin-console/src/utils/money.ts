// Money is fen (integer) on the wire and yuan text in forms. Conversions work on the digits, never through floating
// point: "9.90" is 9 * 100 + 90 fen, not Math.round(9.9 * 100).

const YUAN = /^(\d{1,9})(?:\.(\d{1,2}))?$/

/** "9.9" → 990, "0.01" → 1, "12" → 1200; null for anything that is not a non-negative amount with ≤ 2 decimals. */
export function yuanToFen(text: string): number | null {
  const m = YUAN.exec(text.trim().replace(/^¥\s*/, '').replace(/,/g, ''))
  if (!m) return null
  const whole = Number.parseInt(m[1], 10)
  const cents = m[2] === undefined ? 0 : Number.parseInt(m[2].padEnd(2, '0'), 10)
  return whole * 100 + cents
}

/** 990 → "9.90", 1 → "0.01", -250 → "-2.50". */
export function fenToYuan(fen: number): string {
  if (!Number.isInteger(fen)) throw new Error(`not a whole number of fen: ${fen}`)
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

/** 123456 → "¥1,234.56", for display. */
export function formatYuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return '免费'
  const [whole, cents] = fenToYuan(fen).split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `¥${grouped}.${cents}`
}

/** A form validator for el-form: optional empty (free), otherwise yuan text within [minFen, maxFen]. */
export function yuanRule(opts: { required?: boolean; minFen?: number; maxFen?: number } = {}) {
  return {
    trigger: 'blur',
    validator: (_rule: unknown, value: string, callback: (e?: Error) => void) => {
      if (value === undefined || value === null || value.trim() === '') {
        return opts.required ? callback(new Error('请输入金额')) : callback()
      }
      const fen = yuanToFen(value)
      if (fen === null) return callback(new Error('金额格式不正确，最多两位小数，例如 9.90'))
      if (opts.minFen !== undefined && fen < opts.minFen) return callback(new Error(`不能少于 ${fenToYuan(opts.minFen)} 元`))
      if (opts.maxFen !== undefined && fen > opts.maxFen) return callback(new Error(`不能超过 ${fenToYuan(opts.maxFen)} 元`))
      callback()
    },
  }
}
