// Clock times as both pages show them: the browser locale's short time
// (Intl: "14:03" or "2:03 PM", as the locale says), with the day in front
// when it is not today, and the year when it is not this year. `locale` is
// for tests; the pages leave it out (the browser's).

const cache = new Map<string, Intl.DateTimeFormat>();

function format(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale ?? ''}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    cache.set(key, f);
  }
  return f;
}

const TIME: Intl.DateTimeFormatOptions = { timeStyle: 'short' };
const DAY: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric' };
const DATE_TIME: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short' };
const FULL: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'medium' };

/** Milliseconds since the epoch of an ISO timestamp (or of a number), NaN when there is none. */
export function toMillis(when: string | number | null | undefined): number {
  if (typeof when === 'number') return when > 0 ? when : Number.NaN;
  if (!when) return Number.NaN;
  return Date.parse(when);
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** The short time of day only ("14:03", "2:03 PM"); '' without a valid time. */
export function formatClock(when: string | number | null | undefined, locale?: string): string {
  const t = toMillis(when);
  return Number.isNaN(t) ? '' : format(locale, TIME).format(new Date(t));
}

/**
 * The short time today ("14:03"), with the day otherwise ("3 Aug, 14:03" /
 * "Aug 3, 2:03 PM"), and the year when it is not this year. '' without a
 * valid time.
 */
export function formatStamp(when: string | number | null | undefined, now: number, locale?: string): string {
  const t = toMillis(when);
  if (Number.isNaN(t)) return '';
  const d = new Date(t);
  const today = new Date(now);
  const time = format(locale, TIME).format(d);
  if (sameDay(d, today)) return time;
  // (Intl has no "short date without the year" style to pair with timeStyle.)
  if (d.getFullYear() === today.getFullYear()) return `${format(locale, DAY).format(d)}, ${time}`;
  return format(locale, DATE_TIME).format(d);
}

/** Date and time to the second, for tooltips; '' without a valid time. */
export function formatFullTime(when: string | number | null | undefined, locale?: string): string {
  const t = toMillis(when);
  return Number.isNaN(t) ? '' : format(locale, FULL).format(new Date(t));
}
