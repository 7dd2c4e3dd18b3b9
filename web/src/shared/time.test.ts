import { describe, expect, it } from 'vitest';
import { formatFull, formatTime } from '../admin/format';
import { formatClock, formatFullTime, formatStamp } from './time';

// Local times (no zone in the string): the same wall clock in any time zone.
const now = new Date(2026, 0, 5, 16, 30).getTime();
const at = (y: number, mo: number, d: number, h: number, mi: number) => new Date(y, mo, d, h, mi).toISOString();

describe('clock times (chat and console alike)', () => {
  it('uses the locale’s short time: 24 hours where it says so, 12 where it says so', () => {
    const t = at(2026, 0, 5, 14, 3);
    expect(formatClock(t, 'en-GB')).toBe('14:03');
    expect(formatClock(t, 'de-DE')).toBe('14:03');
    expect(formatClock(t, 'en-US')).toMatch(/^2:03\sPM$/);
  });

  it('adds the day when it is not today, and the year when it is not this year', () => {
    expect(formatStamp(at(2026, 0, 5, 9, 7), now, 'en-GB')).toBe('09:07');
    expect(formatStamp(at(2026, 0, 3, 14, 3), now, 'en-GB')).toBe('3 Jan, 14:03');
    expect(formatStamp(at(2026, 0, 3, 14, 3), now, 'en-US')).toMatch(/^Jan 3, 2:03\sPM$/);
    expect(formatStamp(at(2025, 7, 3, 14, 3), now, 'en-GB')).toBe('3 Aug 2025, 14:03');
  });

  it('takes ISO strings and epoch milliseconds, and gives nothing for no time', () => {
    const t = new Date(2026, 0, 5, 14, 3).getTime();
    expect(formatStamp(t, now, 'en-GB')).toBe('14:03');
    expect(formatStamp(undefined, now)).toBe('');
    expect(formatStamp('not a time', now)).toBe('');
    expect(formatStamp(0, now)).toBe('');
    expect(formatFullTime(null)).toBe('');
    expect(formatFullTime(at(2026, 0, 5, 14, 3), 'en-GB')).toBe('5 Jan 2026, 14:03:00');
  });

  it('the console formats as the chat page does', () => {
    for (const t of [at(2026, 0, 5, 14, 3), at(2026, 0, 3, 8, 45), at(2024, 11, 31, 23, 59)]) {
      expect(formatTime(t, now, 'en-US')).toBe(formatStamp(t, now, 'en-US'));
      expect(formatTime(t, now, 'en-GB')).toBe(formatStamp(t, now, 'en-GB'));
      expect(formatTime(t, now)).toBe(formatStamp(t, now));
      expect(formatFull(t)).toBe(formatFullTime(t));
    }
    expect(formatTime(undefined, now)).toBe('—');
  });
});
