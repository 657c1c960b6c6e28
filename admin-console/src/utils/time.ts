// Times travel as ISO-8601 with an offset and are shown in Asia/Shanghai time, whatever the browser's zone.
export const ZONE = 'Asia/Shanghai'

const full = new Intl.DateTimeFormat('zh-CN', {
  timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  second: '2-digit', hourCycle: 'h23',
})

function parts(fmt: Intl.DateTimeFormat, d: Date): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of fmt.formatToParts(d)) out[p.type] = p.value
  return out
}

/** "2026-12-01T16:30:00Z" → "2026-12-02 00:30:00". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const p = parts(full, new Date(iso))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`
}

/** A bucket label: "12-02 00:00" for hours, "2026-12-02" for days. */
export function formatBucket(iso: string, bucket: 'hour' | 'day'): string {
  const p = parts(full, new Date(iso))
  return bucket === 'hour' ? `${p.month}-${p.day} ${p.hour}:00` : `${p.year}-${p.month}-${p.day}`
}

/** Today's date in Asia/Shanghai, "YYYY-MM-DD", shifted by a number of days. */
export function shanghaiDate(offsetDays = 0, now = new Date()): string {
  const p = parts(full, new Date(now.getTime() + offsetDays * 86_400_000))
  return `${p.year}-${p.month}-${p.day}`
}

/** A "YYYY-MM-DD HH:mm:ss" wall time in Asia/Shanghai as ISO-8601 with its +08:00 offset (no daylight saving). */
export function shanghaiWallToIso(wall: string): string {
  return `${wall.replace(' ', 'T')}+08:00`
}

/** An ISO instant as the "YYYY-MM-DD HH:mm:ss" wall time of Asia/Shanghai (for date pickers). */
export function isoToShanghaiWall(iso: string | null | undefined): string | null {
  return iso ? formatTime(iso) : null
}
