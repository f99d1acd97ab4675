"""Jira's date formats in the server time zone, fast enough for thousands of dates per page."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HOUR_MS = 3_600_000


class Clock:
    """Formats epoch milliseconds the way Jira does and resolves local wall-clock times."""

    def __init__(self, time_zone: str) -> None:
        self.name = time_zone
        self.zone = ZoneInfo(time_zone)
        # UTC offsets only change on the hour in practice: cache them per hour; the date
        # part of a timestamp is cached per local day, so formatting is integer arithmetic.
        self._offsets: dict[int, int] = {}
        self._days: dict[int, str] = {}
        self._offset_text: dict[int, str] = {}

    def offset_ms(self, ms: int) -> int:
        hour = ms // HOUR_MS
        cached = self._offsets.get(hour)
        if cached is None:
            moment = datetime.fromtimestamp(hour * 3600, UTC).astimezone(self.zone)
            delta = moment.utcoffset() or timedelta(0)
            cached = int(delta.total_seconds() * 1000)
            if len(self._offsets) > 200_000:
                self._offsets.clear()
            self._offsets[hour] = cached
        return cached

    def _parts(self, ms: int) -> tuple[time.struct_time, int, int]:
        offset = self.offset_ms(ms)
        local = ms + offset
        return time.gmtime(local // 1000), local % 1000, offset

    def format(self, ms: int) -> str:
        """``2025-04-10T17:14:56.000+0000``: platform REST dates (no colon in the offset)."""
        offset = self.offset_ms(ms)
        day, rest = divmod(ms + offset, 86_400_000)
        prefix = self._days.get(day)
        if prefix is None:
            t = time.gmtime(day * 86_400)
            prefix = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
            if len(self._days) > 100_000:
                self._days.clear()
            self._days[day] = prefix
        suffix = self._offset_text.get(offset)
        if suffix is None:
            minutes = abs(offset) // 60_000
            suffix = f"{'+' if offset >= 0 else '-'}{minutes // 60:02d}{minutes % 60:02d}"
            self._offset_text[offset] = suffix
        hours, rest = divmod(rest, 3_600_000)
        minutes, rest = divmod(rest, 60_000)
        seconds, millis = divmod(rest, 1000)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}{suffix}"

    def format_colon(self, ms: int) -> str:
        """``2016-04-11T07:29:03.294-07:00``: agile dates and the legacy sprint string."""
        text = self.format(ms)
        return f"{text[:-2]}:{text[-2:]}"

    def format_date(self, ms: int) -> str:
        t, _, _ = self._parts(ms)
        return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"

    def format_human(self, ms: int) -> str:
        """``10/Apr/25 5:14 PM``: the renderedFields and userReleaseDate style."""
        t, _, _ = self._parts(ms)
        hour = t.tm_hour % 12 or 12
        half = "AM" if t.tm_hour < 12 else "PM"
        return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year % 100:02d} {hour}:{t.tm_min:02d} {half}"

    def format_user_date(self, ms: int) -> str:
        t, _, _ = self._parts(ms)
        return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year % 100:02d}"

    def local_ms(self, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
        """Epoch ms of a wall-clock time in the server zone."""
        moment = datetime(year, month, day, hour, minute, tzinfo=self.zone)
        return int(moment.timestamp() * 1000)

    def local_datetime(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, self.zone)

    def to_ms(self, moment: datetime) -> int:
        return int(moment.timestamp() * 1000)
