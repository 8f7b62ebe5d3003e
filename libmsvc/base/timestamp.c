/* timestamp.c - instants as JavaScript's Date.toJSON() writes them.
 *
 * "2026-11-24T04:03:56.419Z": what the seed's clients read, what its Prisma
 * client stored, and what the SQLite store keeps as text.  Hand-written
 * civil-date arithmetic (no gmtime: glibc's takes a lock, no printf).  The
 * range is JavaScript's, +-8.64e15 ms around the epoch, with years outside
 * 0..9999 as "+YYYYYY"/"-YYYYYY".
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

/* JavaScript's Date range: +-8.64e15 ms around the epoch. */
#define JS_DATE_MAX_MS INT64_C(8640000000000000)
#define MS_PER_DAY INT64_C(86400000)

/* Proleptic Gregorian calendar <-> days since 1970-01-01, after Howard
 * Hinnant's public-domain algorithms (eras of 400 years). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  int64_t era, yy;
  unsigned doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned)(z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  yy = (int64_t)yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  int64_t era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

/* Writes v as exactly n digits (leading zeros) at out; returns out + n. */
static char *put_digits(char *out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; i--) {
    out[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return out + n;
}

/* "00".."99": two digits per lookup for the time of day. */
static const char pairs[201] =
    "00010203040506070809101112131415161718192021222324"
    "25262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374"
    "75767778798081828384858687888990919293949596979899";

static char *put_pair(char *out, unsigned v) {
  memcpy(out, pairs + 2 * v, 2);
  return out + 2;
}

/* "YYYY-MM-DDT" (or "+YYYYYY-MM-DDT") for a day since the epoch; returns
 * its length. */
static size_t format_date(int64_t days, char *out) {
  int64_t year;
  unsigned month, day;
  char *p = out;
  civil_from_days(days, &year, &month, &day);
  if (year >= 0 && year <= 9999) {
    p = put_digits(p, (uint64_t)year, 4);
  } else {
    *p++ = year < 0 ? '-' : '+';
    p = put_digits(p, (uint64_t)(year < 0 ? -year : year), 6);
  }
  *p++ = '-';
  p = put_pair(p, month);
  *p++ = '-';
  p = put_pair(p, day);
  *p++ = 'T';
  return (size_t)(p - out);
}

/* The last day formatted on this thread: a page of posts, or a run of log
 * lines, mostly falls on one day, so the calendar arithmetic runs once per
 * day rather than once per timestamp.  Per thread, so no lock. */
static __thread struct {
  int64_t days;
  size_t len; /* 0: empty */
  char text[16];
} last_date;

/* Writes the Date.toJSON() form of ms (no NUL) and returns its length
 * (24, or 27 for years outside 0..9999), or 0 outside JavaScript's range,
 * where toJSON() has no string either. */
static size_t format_iso(int64_t ms, char *out) {
  int64_t days, rem;
  unsigned sec, milli;
  char *p;
  if (ms < -JS_DATE_MAX_MS || ms > JS_DATE_MAX_MS)
    return 0;
  days = ms / MS_PER_DAY;
  rem = ms % MS_PER_DAY;
  if (rem < 0) {
    rem += MS_PER_DAY;
    days--;
  }
  if (last_date.len == 0 || last_date.days != days) {
    last_date.len = format_date(days, last_date.text);
    last_date.days = days;
  }
  memcpy(out, last_date.text, last_date.len);
  p = out + last_date.len;
  sec = (unsigned)(rem / 1000);
  milli = (unsigned)(rem % 1000);
  p = put_pair(p, sec / 3600);
  *p++ = ':';
  p = put_pair(p, sec / 60 % 60);
  *p++ = ':';
  p = put_pair(p, sec % 60);
  *p++ = '.';
  *p++ = (char)('0' + milli / 100);
  p = put_pair(p, milli % 100);
  *p++ = 'Z';
  return (size_t)(p - out);
}

size_t msvc__format_timestamp(int64_t ms, char out[32]) {
  size_t n = format_iso(ms, out);
  out[n] = '\0';
  return n;
}

/* Reads exactly n digits at *p into *v and advances *p. */
static int read_digits(const char **p, int n, int64_t *v) {
  int64_t acc = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9')
      return -1;
    acc = acc * 10 + (c - '0');
  }
  *p += n;
  *v = acc;
  return 0;
}

/* Reads "[+-]YYYYYY" or "YYYY". */
static int read_year(const char **p, int64_t *year) {
  char sign = **p;
  if (sign != '+' && sign != '-')
    return read_digits(p, 4, year);
  (*p)++;
  if (read_digits(p, 6, year) != 0 || (sign == '-' && *year == 0))
    return -1;
  if (sign == '-')
    *year = -*year;
  return 0;
}

/* Reads ".d[d...]" (1 to 9 digits, anything past milliseconds dropped)
 * when present. */
static int read_fraction(const char **p, int64_t *ms) {
  int digits = 0;
  *ms = 0;
  if (**p != '.')
    return 0;
  for ((*p)++; **p >= '0' && **p <= '9'; (*p)++, digits++)
    if (digits < 3)
      *ms = *ms * 10 + (**p - '0');
  for (int i = digits; i < 3; i++)
    *ms *= 10;
  return digits >= 1 && digits <= 9 ? 0 : -1;
}

static int expect_char(const char **p, char c) {
  if (**p != c)
    return -1;
  (*p)++;
  return 0;
}

static int days_in_month(int64_t y, int64_t m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return days[m - 1] + (m == 2 && leap);
}

int msvc__parse_timestamp(const char *s, int64_t *ms) {
  int64_t y, mo, d, h, mi, sec, frac, total;
  const char *p = s;
  if (s == NULL || ms == NULL)
    return MSVC_EINVAL;
  if (read_year(&p, &y) || expect_char(&p, '-') || read_digits(&p, 2, &mo) ||
      expect_char(&p, '-') || read_digits(&p, 2, &d) || expect_char(&p, 'T') ||
      read_digits(&p, 2, &h) || expect_char(&p, ':') ||
      read_digits(&p, 2, &mi) || expect_char(&p, ':') ||
      read_digits(&p, 2, &sec) || read_fraction(&p, &frac))
    return MSVC_EINVAL;
  if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
    return MSVC_EINVAL;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
      mi > 59 || sec > 59)
    return MSVC_EINVAL;
  total = days_from_civil(y, (unsigned)mo, (unsigned)d) * MS_PER_DAY +
          ((h * 60 + mi) * 60 + sec) * 1000 + frac;
  if (total < -JS_DATE_MAX_MS || total > JS_DATE_MAX_MS)
    return MSVC_EINVAL;
  *ms = total;
  return 0;
}
