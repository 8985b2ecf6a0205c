"""The routes file as the functions read it: one HEAD per invocation at most, a GET only when its
ETag changed, so a busy deployment does not read the same file for every event."""

from __future__ import annotations

import logging

from ..ports import Bucket
from .routes import ROUTES_FILE, Routes, RoutesError, parse_routes

log = logging.getLogger(__name__)
MAX_ROUTES_BYTES = 1024 * 1024


class RoutesSource:
    """`current()` gives the routes, or raises `RoutesError` while the file is invalid;
    `new_invocation()` lets the next `current()` look at the bucket again."""

    def __init__(self, bucket: Bucket, state_prefix: str) -> None:
        self.bucket = bucket
        self.key = f"{state_prefix}{ROUTES_FILE}"
        self._etag: str | None = None
        self._routes = Routes()
        self._error: str | None = None
        self._checked = False

    def new_invocation(self) -> None:
        self._checked = False

    def current(self) -> Routes:
        self._refresh()
        if self._error:
            raise RoutesError(self._error)
        return self._routes

    def _refresh(self) -> None:
        if self._checked:
            return
        info = self.bucket.head(self.key)
        self._checked = True
        etag = info.etag if info else None
        if etag == self._etag:
            return
        raw = self.bucket.get_small(self.key, MAX_ROUTES_BYTES) if info else None
        self._etag = etag
        if raw is None:
            self._routes, self._error = Routes(), None
            return
        try:
            self._routes, self._error = parse_routes(raw, f"oss://{self.key}"), None
        except RoutesError as exc:
            # A broken file must not silence the deployment-wide channels: they still get every
            # event, the route's own channels none until the file is fixed.
            self._routes, self._error = Routes(), f"{exc}; fix it with `imagedrop routes check`"
            log.error("routes file not used: %s", self._error)
