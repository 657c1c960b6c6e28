import { describe, expect, it } from 'vitest'
import { fenToYuan, formatYuan, yuanToFen } from '../../src/utils/money'

describe('yuan text → fen, without floating point', () => {
  it('reads whole yuan and one or two decimals', () => {
    expect(yuanToFen('9.90')).toBe(990)
    expect(yuanToFen('9.9')).toBe(990)
    expect(yuanToFen('12')).toBe(1200)
    expect(yuanToFen('0.01')).toBe(1)
    expect(yuanToFen(' 1,234.56 ')).toBe(123456)
    expect(yuanToFen('¥19.90')).toBe(1990)
  })

  it('gets right the amounts that floating point gets wrong', () => {
    // 0.29 * 100 = 28.999999999999996, 1.15 * 100 = 114.99999999999999, 4.35 * 100 = 434.99999999999994
    expect(yuanToFen('0.29')).toBe(29)
    expect(yuanToFen('1.15')).toBe(115)
    expect(yuanToFen('4.35')).toBe(435)
    expect(yuanToFen('999999999.99')).toBe(99999999999)
  })

  it('refuses what is not an amount', () => {
    for (const bad of ['', '.5', '1.', '1.234', '-1', '1e3', 'abc', '1.2.3', '0x10', '１２']) {
      expect(yuanToFen(bad), bad).toBeNull()
    }
  })

  it('writes fen back as yuan text and display text', () => {
    expect(fenToYuan(990)).toBe('9.90')
    expect(fenToYuan(1)).toBe('0.01')
    expect(fenToYuan(0)).toBe('0.00')
    expect(fenToYuan(-250)).toBe('-2.50')
    expect(formatYuan(123456)).toBe('¥1,234.56')
    expect(formatYuan(null)).toBe('免费')
    expect(() => fenToYuan(1.5)).toThrow()
    for (const fen of [1, 29, 115, 435, 990, 100000000]) expect(yuanToFen(fenToYuan(fen))).toBe(fen)
  })
})
