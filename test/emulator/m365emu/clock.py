"""The emulator's clock: wall time plus an offset that tests move (POST /_emulator/clock).

Every handler reads now() from here: token expiry, the 7-day horizon, the 24-hour window
rule, blob creation and expiry, alert updates. Throttling buckets and the request log's
spacing use time.monotonic() instead, so shifting the clock never refills a bucket.
"""
import calendar
import re
import threading
import time
from email.utils import formatdate

TICKS_PER_SECOND = 10_000_000  # Graph keeps 7 fractional digits (100 ns ticks)


class Clock:
    def __init__(self, offset=0.0):
        self._offset = float(offset)
        self._lock = threading.Lock()

    def now(self):
        return time.time() + self._offset

    def offset(self):
        return self._offset

    def advance(self, seconds):
        with self._lock:
            self._offset += float(seconds)

    def set_offset(self, seconds):
        with self._lock:
            self._offset = float(seconds)

    def set_now(self, epoch):
        with self._lock:
            self._offset = float(epoch) - time.time()


def fmt_sec(t):
    """Management API record time: 2026-03-02T07:41:09 (no zone, no fraction)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def fmt_space(t):
    """The normalised form some exporters write: 2026-03-02 07:41:09."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def fmt_ms(ms):
    """Blob descriptor time from integer milliseconds: 2026-03-02T09:15:00.123Z."""
    s, m = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03dZ" % m


def fmt_ticks(ticks, digits=7):
    """Graph DateTimeOffset from 100 ns ticks: 2026-03-02T08:09:14.1234567Z."""
    s, frac = divmod(int(ticks), TICKS_PER_SECOND)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s))
    if digits <= 0:
        return base + "Z"
    f = "%07d" % frac
    return base + "." + f[:digits] + "Z"


def http_date(t):
    return formatdate(t, usegmt=True)


def stamp20(ms):
    """contentId time field: yyyyMMddHHmmss + 6 fractional digits (20 digits)."""
    s, m = divmod(int(ms), 1000)
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(s)) + "%03d000" % m


def parse_stamp20(text):
    if len(text) != 20 or not text.isdigit():
        return None
    try:
        st = time.strptime(text[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return calendar.timegm(st) * 1000 + int(text[14:17])


_API_FORMATS = (
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"), "%Y-%m-%dT%H:%M"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"), "%Y-%m-%dT%H:%M:%S"),
)
_LENIENT = re.compile(r"^(\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?)(\.\d{1,7})?(Z|[+-]00:?00)?$")


def parse_api_time(text, lenient=False):
    """startTime/endTime of subscriptions/content. The three documented forms always;
    with lenient also a trailing Z (or +00:00) and a fraction. Returns epoch seconds or None."""
    if text is None:
        return None
    for rx, fmt in _API_FORMATS:
        if rx.match(text):
            try:
                return float(calendar.timegm(time.strptime(text, fmt)))
            except ValueError:
                return None
    if lenient:
        m = _LENIENT.match(text)
        if m and (m.group(2) or m.group(3)):
            base = parse_api_time(m.group(1))
            if base is None:
                return None
            return base + (float(m.group(2)) if m.group(2) else 0.0)
    return None


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z|[+-]\d{2}:\d{2})$")


def parse_iso_ticks(text):
    """An OData DateTimeOffset literal to 100 ns ticks, or None."""
    m = _ISO.match(text)
    if not m:
        return None
    y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
    sec = int(m.group(6) or 0)
    try:
        base = calendar.timegm((y, mo, d, h, mi, sec, 0, 0, 0))
        time.gmtime(base)
        if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and sec < 61):
            return None
    except (ValueError, OverflowError):
        return None
    frac = m.group(7) or ""
    ticks = base * TICKS_PER_SECOND + int((frac + "0000000")[:7])
    zone = m.group(8)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        ticks -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60) * TICKS_PER_SECOND
    return ticks
