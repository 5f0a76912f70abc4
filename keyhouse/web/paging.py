"""Pages of a long list without deep OFFSETs: keyset links, bookmarkable, and counts that stop early.

A list's order is one or more segments shown one after the other, each a pair
(condition or None, columns): the columns order the segment's rows newest
first (all descending, the last one unique). `ApiKey.listing_order()` has two: the keys used at some
point, by last use, then those never used, by creation; the audit log has one,
by id. Each column's index answers a page by walking from where the previous
one stopped, so page 10,000 costs what page 1 costs.

A page's links carry a cursor instead of a page number: the segment and the
sort values of the row to continue from (`after=0~2026-11-29T10:00:00~…~812`
for the next page, `before=…` for the previous one, `last=1` for the oldest
rows). Rows added or removed meanwhile do not shift the pages; a URL works
as a bookmark. The links also carry the page's number (`page=2`) for the
"Page N of M" label; a plain `page=N` (an old bookmark, or the page holding a
linked row) is served with an OFFSET while that stays within COUNT_CAP rows.

Counts stop at COUNT_CAP: beyond it the screen says "1,000+ keys", and the
page number alone ("Page 3") or nothing when it is not known.
"""

import dataclasses
import datetime
import math

from flask import request
from peewee import DateTimeField

from keyhouse.models import COUNT_CAP, bounded_count

from .params import small_int

SEPARATOR = "~"


@dataclasses.dataclass(frozen=True)
class Cursor:
    segment: int
    values: tuple

    def encode(self):
        parts = [str(self.segment)]
        parts += [value.isoformat() if isinstance(value, datetime.datetime) else str(value) for value in self.values]
        return SEPARATOR.join(parts)


def count_label(total):
    """"1,000+" beyond the cap, else the exact number with thousands separators."""
    return f"{COUNT_CAP:,}+" if total > COUNT_CAP else f"{total:,}"


def decode(text, order):
    """The Cursor in `text` for `order` (a list of segments), or None if it is not one (never an error)."""
    parts = (text or "").split(SEPARATOR)
    segment = small_int(parts[0])
    if segment is None or segment >= len(order) or len(parts) != len(order[segment][1]) + 1:
        return None
    values = []
    for column, part in zip(order[segment][1], parts[1:]):
        if isinstance(column, DateTimeField):
            try:
                value = datetime.datetime.fromisoformat(part)
            except ValueError:
                return None
            if value.tzinfo is not None:
                return None
        else:
            value = small_int(part)
            if value is None:
                return None
        values.append(value)
    return Cursor(segment, tuple(values))


def _beyond(columns, values, forward, inclusive):
    """Rows after (`forward`) or before the position `values` in the order of `columns` (descending)."""
    first, rest = columns[0], columns[1:]
    if not rest:
        if forward:
            return first <= values[0] if inclusive else first < values[0]
        return first >= values[0] if inclusive else first > values[0]
    strictly = (first < values[0]) if forward else (first > values[0])
    further = strictly | ((first == values[0]) & _beyond(rest, values[1:], forward, inclusive))
    # The plain range on the first column lets the index start at the position.
    return ((first <= values[0]) if forward else (first >= values[0])) & further


@dataclasses.dataclass
class Page:
    """One page of a list: its rows, its number when known, a bounded total and its links' parameters."""

    rows: list
    number: int | None
    total: int  # up to COUNT_CAP + 1
    size: int
    links: dict  # "first", "previous", "next", "last": the query parameters of each link, or None

    @property
    def total_label(self):
        return count_label(self.total)

    @property
    def pages(self):
        """How many pages the list has, or None beyond COUNT_CAP rows."""
        return None if self.total > COUNT_CAP else max(1, math.ceil(self.total / self.size))

    @property
    def summary(self):
        """"Page 2 of 3", "Page 4" (beyond COUNT_CAP rows) or "" (number not known)."""
        if self.number is None:
            return ""
        return f"Page {self.number} of {self.pages}" if self.pages else f"Page {self.number}"


class Pager:
    """Pages of `query` in `order` (segments), `size` rows each; URL parameters start with `prefix`."""

    def __init__(self, query, order, size, prefix=""):
        self.query, self.order, self.size, self.prefix = query, order, size, prefix

    # ---------------------------------------------------------------- walking the order

    def _segment_query(self, index, cursor, forward, inclusive):
        where, columns = self.order[index]
        query = self.query if where is None else self.query.where(where)
        if cursor is not None and cursor.segment == index:
            query = query.where(_beyond(columns, cursor.values, forward, inclusive))
        return query.order_by(*(column.desc() if forward else column.asc() for column in columns))

    def _segments(self, cursor, forward):
        """The segments' indexes from the cursor's (or the first / the last) on, in walking order."""
        if forward:
            return range(cursor.segment if cursor else 0, len(self.order))
        return range(cursor.segment if cursor else len(self.order) - 1, -1, -1)

    def _walk(self, cursor=None, forward=True, inclusive=False, take=1, skip=0):
        """Up to `take` rows from `cursor` (None: from the start, or the end going back), after `skip` rows.

        Returns [(segment index, row)] in walking order.
        """
        found = []
        for index in self._segments(cursor, forward):
            query = self._segment_query(index, cursor, forward, inclusive)
            if skip:
                available = bounded_count(query, skip - 1)
                if available < skip:
                    skip -= available
                    continue
            rows = list(query.offset(skip or None).limit(take - len(found)))
            skip = 0
            found += [(index, row) for row in rows]
            if len(found) >= take:
                break
        return found

    def _count(self, cursor=None, forward=True):
        """Rows from `cursor` on (or before it), counted up to COUNT_CAP + 1."""
        total = 0
        for index in self._segments(cursor, forward):
            total += bounded_count(self._segment_query(index, cursor, forward, False), COUNT_CAP - total)
            if total > COUNT_CAP:
                break
        return total

    def cursor_of(self, found):
        index, row = found
        return Cursor(index, tuple(getattr(row, column.name) for column in self.order[index][1]))

    def position_of(self, row):
        """The Cursor of `row` (a model instance of the list), or None if no segment holds it."""
        for index, (where, columns) in enumerate(self.order):
            values = tuple(getattr(row, column.name) for column in columns)
            if None in values:
                continue
            query = self.query if where is None else self.query.where(where)
            if query.where(columns[-1] == values[-1]).exists():
                return Cursor(index, values)
        return None

    # ---------------------------------------------------------------- a page

    def _page(self, found, number, total, has_previous, has_next, with_last):
        rows = [row for _, row in found]
        links = {"first": None, "previous": None, "next": None, "last": None}
        if has_previous:
            links["first"] = {}
            links["previous"] = {"before": self.cursor_of(found[0]).encode(), "page": number - 1 if number else None}
        if has_next:
            links["next"] = {"after": self.cursor_of(found[-1]).encode(), "page": number + 1 if number else None}
            if with_last:
                links["last"] = {"last": 1}
        links = {name: self._params(params) for name, params in links.items()}
        return Page(rows=rows, number=number, total=total, size=self.size, links=links)

    def _params(self, params):
        if params is None:
            return None
        return {self.prefix + name: value for name, value in params.items() if value is not None}

    def _forward(self, cursor, number, total, inclusive=False, with_last=False, skip=0):
        found = self._walk(cursor, True, inclusive, self.size + 1, skip)
        has_next = len(found) > self.size
        found = found[: self.size]
        if not found and skip:  # past the end: the first page
            return self._forward(None, 1, total, with_last=with_last)
        if not found:
            return self._page([], 1, total, False, False, with_last)
        has_previous = bool(skip) or (cursor is not None and bool(self._walk(self.cursor_of(found[0]), False)))
        if not has_previous:
            number = 1
        return self._page(found, number, total, has_previous, has_next, with_last)

    def page(self, linked=None, with_last=False):
        """The page the request asks for (`linked`: a row to show, on the page that holds it)."""
        args = request.args
        total = self._count()
        pages = None if total > COUNT_CAP else max(1, math.ceil(total / self.size))
        number = small_int(args.get(self.prefix + "page"))
        if number is not None and pages is not None:
            number = min(number, pages)
        if linked is not None:
            cursor = self.position_of(linked)
            if cursor is not None:
                before = self._count(cursor, forward=False)
                if before < COUNT_CAP:  # the numbered page that holds it
                    number = before // self.size + 1
                    return self._forward(None, number, total, with_last=with_last, skip=(number - 1) * self.size)
                return self._forward(cursor, None, total, inclusive=True, with_last=with_last)
        after = decode(args.get(self.prefix + "after"), self.order)
        if after is not None:
            return self._forward(after, number, total, with_last=with_last)
        before = decode(args.get(self.prefix + "before"), self.order)
        if before is not None:
            found = self._walk(before, False, False, self.size + 1)
            if len(found) > self.size:
                found = list(reversed(found[: self.size]))
                has_next = bool(self._walk(self.cursor_of(found[-1]), True))
                return self._page(found, number and max(2, number), total, True, has_next, with_last)
            return self._forward(None, 1, total, with_last=with_last)  # fewer than a page before: the first page
        if args.get(self.prefix + "last") and with_last:
            if pages is not None and (pages - 1) * self.size <= COUNT_CAP:  # counted: the numbered last page
                return self._forward(None, pages, total, with_last=with_last, skip=(pages - 1) * self.size)
            found = list(reversed(self._walk(None, False, False, self.size + 1)))
            has_previous = len(found) > self.size
            found = found[-self.size:]
            return self._page(found, pages if has_previous else 1, total, has_previous, False, with_last)
        if number and number > 1 and (number - 1) * self.size < COUNT_CAP:
            return self._forward(None, number, total, with_last=with_last, skip=(number - 1) * self.size)
        return self._forward(None, 1, total, with_last=with_last)
