"""Table cells for CRD ``additionalPrinterColumns``, built the way kube-apiserver builds them.

kubectl prints the cells of a server-side ``Table`` verbatim, so each cell here is what
apiextensions-apiserver's table convertor (``cellForJSONValue`` and, for ``string``
columns, client-go's ``JSONPath.PrintResults``) would put in it. Guarantees:

* :func:`human_duration` is ``k8s.io/apimachinery/pkg/util/duration.HumanDuration``:
  the same thresholds, the same truncation, the same text (``"2m5s"``, ``"3h"``,
  ``"2y7d"``, ``"<invalid>"`` for more than a second in the future).
* :func:`cell_value` never raises. It returns ``None`` (a blank cell) for no match, and
  otherwise a JSON-ready value: ``str`` for ``string`` and ``date`` columns, ``int`` for
  ``integer``, ``int``/``float`` for ``number``, ``bool`` for ``boolean``. A value of the
  wrong JSON type for its column gives ``None``, as in kube.
* ``string`` cells print like Go: ``true``/``false``, Go's ``%v`` for floats
  (``1e+06``), Go's ``encoding/json`` for objects and lists (sorted keys, compact,
  ``<``/``>``/``&`` escaped), and ``<no value>`` for a JSON ``null``.
* ``date`` cells: an RFC 3339 timestamp gives its age (capped, like Go's ``time.Since``,
  at ``292y``), ``""``/``"null"``/the zero time give ``<unknown>`` and any other text
  ``<invalid>``; a ``now`` without a zone is taken as UTC.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from decimal import Decimal

__all__ = ["cell_value", "human_duration"]

_HOURS_PER_YEAR = 24 * 365


def human_duration(seconds: float) -> str:
    """A duration as kubectl's AGE column shows it (``HumanDuration``), from seconds.

    Negative input is a timestamp in the future: up to one second of clock skew shows as
    ``0s``, more as ``<invalid>`` (so does NaN or an infinity).
    """
    if not math.isfinite(seconds):
        return "<invalid>"
    whole = int(seconds)  # truncates toward zero, like Go's int(d.Seconds())
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 60 * 2:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d" if rest == 0 else f"{days}d{rest}h"
    if hours < _HOURS_PER_YEAR * 2:
        return f"{days}d"
    years = hours // _HOURS_PER_YEAR
    if hours < _HOURS_PER_YEAR * 8:
        rest = days % 365
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{years}y"


def cell_value(column_type: str, values: list[object], now: datetime.datetime) -> object:
    """The cell for a column of ``column_type`` whose JSONPath matched ``values``.

    Only the first match counts. ``now`` is the moment ``date`` columns measure age from.
    """
    if not values:
        return None
    value = values[0]
    if column_type == "string":
        return _string_cell(value)
    if value is None or (isinstance(value, bool) and column_type != "boolean"):
        return None
    if column_type == "integer":
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return int(value)  # Go's int64(float64) truncates toward zero
        return None
    if column_type == "number":
        return value if isinstance(value, int | float) else None
    if column_type == "boolean":
        return value if isinstance(value, bool) else None
    if column_type == "date":
        return _date_cell(value, now) if isinstance(value, str) else None
    return None


# --------------------------------------------------------------------------- dates

_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_ZERO_TIME = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)
_SECOND = datetime.timedelta(seconds=1)
_MAX_DURATION_SECONDS = (2**63 - 1) / 1e9  # Go's time.Duration is int64 nanoseconds


def _parse_rfc3339(text: str) -> datetime.datetime | None:
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(group) for group in match.groups()[:6])
    microsecond = int(((match.group(7) or "") + "000000")[:6])
    zone = match.group(8)
    try:
        if zone == "Z":
            tzinfo = datetime.UTC
        else:
            offset_hours, offset_minutes = int(zone[1:3]), int(zone[4:6])
            if offset_hours > 23 or offset_minutes > 59:
                return None
            offset = datetime.timedelta(hours=offset_hours, minutes=offset_minutes)
            tzinfo = datetime.timezone(-offset if zone[0] == "-" else offset)
        return datetime.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=tzinfo)
    except ValueError:  # out-of-range field (month 13, hour 24, year 0, ...)
        return None


def _date_cell(text: str, now: datetime.datetime) -> str:
    if text in ("", "null"):  # metav1.Time reads both as the zero time
        return "<unknown>"
    timestamp = _parse_rfc3339(text)
    if timestamp is None:
        return "<invalid>"
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.UTC)
    if timestamp == _ZERO_TIME:
        return "<unknown>"
    age = (now - timestamp) / _SECOND
    # time.Since saturates at the largest Duration (~292 years) instead of overflowing.
    return human_duration(min(max(age, -_MAX_DURATION_SECONDS), _MAX_DURATION_SECONDS))


# --------------------------------------------------------------------------- strings


class _Unencodable(ValueError):
    """A value Go's encoding/json refuses (NaN, an infinity, a non-JSON object)."""


def _string_cell(value: object) -> str | None:
    if value is None:
        return "<no value>"  # text/template's rendering of a nil interface
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float_text(value)
    try:
        return _go_json(value)
    except _Unencodable:
        return None


def _shortest_digits(magnitude: float) -> tuple[str, int]:
    """The shortest digits that round-trip ``magnitude`` (> 0), and the decimal point's place.

    ``(digits, point)`` means ``0.<digits> * 10**point``; ``123.5`` is ``("1235", 3)``.
    """
    _, digit_tuple, exponent = Decimal(repr(magnitude)).as_tuple()
    assert isinstance(exponent, int)  # finite input
    digits = "".join(str(digit) for digit in digit_tuple)
    return digits.rstrip("0") or "0", len(digits) + exponent


def _fixed(digits: str, point: int) -> str:
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return f"{digits[:point]}.{digits[point:]}"


def _scientific(digits: str, point: int, *, pad_exponent: bool) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exponent = point - 1
    sign = "-" if exponent < 0 else "+"
    width = 2 if pad_exponent or exponent >= 0 else 1
    return f"{mantissa}e{sign}{abs(exponent):0{width}d}"


def _go_float_text(value: float) -> str:
    """Go's ``fmt.Sprint(float64)``: ``%g`` with the shortest digits, exponent from 1e+06."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    digits, point = _shortest_digits(abs(value))
    if point - 1 < -4 or point - 1 >= 6:
        return sign + _scientific(digits, point, pad_exponent=True)
    return sign + _fixed(digits, point)


def _go_json_float(value: float) -> str:
    """Go's ``encoding/json`` spelling of a float64."""
    if not math.isfinite(value):
        raise _Unencodable(f"json: unsupported value: {value}")
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    magnitude = abs(value)
    digits, point = _shortest_digits(magnitude)
    if magnitude < 1e-6 or magnitude >= 1e21:
        return sign + _scientific(digits, point, pad_exponent=False)
    return sign + _fixed(digits, point)


_JSON_SPECIAL = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029\ud800-\udfff]')
_JSON_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _JSON_SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    if "\ud800" <= char <= "\udfff":  # a lone surrogate is invalid UTF-8 to Go
        return "\\ufffd"
    return f"\\u{ord(char):04x}"


def _go_json_string(text: str) -> str:
    return '"' + _JSON_SPECIAL.sub(_json_escape, text) + '"'


def _first(pair: tuple[str, object]) -> str:
    return pair[0]


def _go_json(value: object) -> str:
    """Go's ``json.Marshal`` of a decoded JSON value: compact, keys sorted, HTML-safe."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_json_float(value)
    if isinstance(value, str):
        return _go_json_string(value)
    if isinstance(value, Mapping):
        items = sorted(((str(key), item) for key, item in value.items()), key=_first)
        return "{" + ",".join(f"{_go_json_string(k)}:{_go_json(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_go_json(item) for item in value) + "]"
    raise _Unencodable(f"json: unsupported type: {type(value).__name__}")
