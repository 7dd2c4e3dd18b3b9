// Times and durations for a dense console: "4m", "2h 05m", "14:03",
// "3 Aug, 14:03" (clock times in the browser locale, like the chat page).

import { formatFullTime, formatStamp } from '../shared/time';

/** Milliseconds since the epoch of an API timestamp, or NaN. */
export function parseTime(iso: string | null | undefined): number {
  if (!iso) return Number.NaN;
  return Date.parse(iso);
}

/** A duration as the shortest readable text: "just now", "45s", "4m", "2h 05m", "3d 4h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${h % 24}h`;
}

/** "4m ago" (or "just now"). */
export function formatAgo(iso: string | null | undefined, now: number): string {
  const t = parseTime(iso);
  if (Number.isNaN(t)) return '—';
  const text = formatDuration(now - t);
  return text === 'just now' || text === '—' ? text : `${text} ago`;
}

/**
 * Local time in the browser locale's short form, as the chat page shows it
 * (../shared/time.ts): "14:03" (or "2:03 PM") today, with the day otherwise,
 * with the year when it is not this year.
 */
export function formatTime(iso: string | null | undefined, now: number, locale?: string): string {
  return formatStamp(iso, now, locale) || '—';
}

/** The full local date and time, for tooltips. */
export function formatFull(iso: string | null | undefined, locale?: string): string {
  return formatFullTime(iso, locale);
}

/** One line of at most `max` characters, for previews. */
export function preview(text: string, max = 140): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
