"""What every platform collector shares: refs, results, errors, and the retrying JSON caller (I/O via httpx).

The platform modules only describe their API (paths, parameters, how an error body reads, how a
success body maps to ``Metrics``); retries, backoff, rate-limit waits, JSON checks and token
hygiene live here once. Tokens travel only in request headers and never in a ``PlatformError``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from bot.clock import Clock, SystemClock
from bot.runtime.platforms import CollectResult, PlatformError, PlatformErrorKind, PostRef

T = TypeVar("T")
R = TypeVar("R")

Sleep = Callable[[float], Awaitable[None]]
#: Turns a computed backoff delay into the delay actually slept (tests pass ``lambda d: d``).
Jitter = Callable[[float], float]

#: Query parameters that may carry a credential; their values are masked in any URL we keep.
SECRET_PARAMS: frozenset[str] = frozenset(
    {"access_token", "key", "api_key", "client_secret", "appsecret_proof"}
)
_MASK = "***"
_DETAIL_LIMIT = 1000


# --- response reading (pure) ---------------------------------------------------------------------------


def as_count(value: object) -> int | None:
    """A non-negative count from JSON: an int, an integral float, or a digit string (YouTube); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


class ShapeCheck:
    """Reads fields of a decoded JSON body without ever raising, noting what did not fit.

    Collectors must survive an API that drops or retypes a field: a bad field becomes ``None``
    and a note here, and the notes become one ``BAD_RESPONSE`` error for the whole response.
    """

    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: list[str] = []

    def note(self, problem: str) -> None:
        self.problems.append(problem)

    def mapping(self, obj: Mapping[str, Any], key: str, *, where: str) -> Mapping[str, Any] | None:
        value = obj.get(key)
        if isinstance(value, Mapping):
            return value
        self.note(f"{where}.{key}: {_describe(obj, key)}")
        return None

    def items(self, obj: Mapping[str, Any], key: str, *, where: str) -> list[Any]:
        """The list under ``key``; an absent key is an empty list (APIs omit empty arrays)."""
        value = obj.get(key, [])
        if isinstance(value, list):
            return value
        self.note(f"{where}.{key}: {_describe(obj, key)}")
        return []

    def count(self, obj: Mapping[str, Any], key: str, *, where: str, required: bool = True) -> int | None:
        if key not in obj:
            if required:
                self.note(f"{where}.{key}: missing")
            return None
        number = as_count(obj[key])
        if number is None:
            self.note(f"{where}.{key}: {_describe(obj, key)}")
        return number


def _describe(obj: Mapping[str, Any], key: str) -> str:
    if key not in obj:
        return "missing"
    value = obj[key]
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"unexpected value {value!r}"
    return f"unexpected {type(value).__name__}"


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def unique_ids(posts: Sequence[PostRef]) -> list[str]:
    """The posts' external ids, each once, in first-seen order."""
    return list(dict.fromkeys(post.external_id for post in posts))


def redact_url(url: str | httpx.URL) -> str:
    """``url`` with the values of credential-carrying query parameters masked."""
    parts = urlsplit(str(url))
    if not parts.query:
        return str(url)
    query = [
        (name, _MASK if name.lower() in SECRET_PARAMS else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",*")))


def retry_after_header(headers: httpx.Headers, *, now: datetime) -> float | None:
    """Seconds from a standard ``Retry-After`` header (delta-seconds or an HTTP date)."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


# --- the retrying caller (I/O) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """A platform module's reading of a failed response.

    Attributes:
        kind: the error kind to report.
        message: the platform's own words (title, error message), for the detail.
        transient: worth retrying after a wait (5xx, network, short rate limits).
        retry_after: seconds the platform asked us to wait, when it said.
        code: the platform's error code or reason.
    """

    kind: PlatformErrorKind
    message: str = ""
    transient: bool = False
    retry_after: float | None = None
    code: str | None = None


#: (response, decoded body when it is a JSON object else None, now) -> None on success.
Classifier = Callable[[httpx.Response, Mapping[str, Any] | None, datetime], Failure | None]


def classify_status(response: httpx.Response, *, message: str = "", now: datetime) -> Failure | None:
    """The HTTP-status reading every platform falls back to when its error body says nothing better."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    if status >= 500:
        return Failure(PlatformErrorKind.SERVER, message, transient=True)
    if status == 429:
        wait = retry_after_header(response.headers, now=now)
        return Failure(PlatformErrorKind.RATE_LIMITED, message, transient=True, retry_after=wait)
    if status in (401, 403):
        return Failure(PlatformErrorKind.AUTH, message)
    if status == 404:
        return Failure(PlatformErrorKind.NOT_FOUND, message)
    return Failure(PlatformErrorKind.BAD_RESPONSE, message)


def equal_jitter(delay: float) -> float:
    """Half the delay fixed, half random, so many clients retrying together spread out."""
    return delay / 2 + random.uniform(0, delay / 2)


class ApiCaller:
    """GETs JSON from one platform, retrying what is worth retrying, and raising ``PlatformError``.

    Args:
        http: the process's shared client; its timeouts apply.
        platform: name used in errors.
        base_url: API root ending in ``/``; request paths are relative to it.
        headers: per-request headers (the credential goes here, never into the URL).
        secrets: strings that must never appear in an error (the token), scrubbed from details.
        classify: the platform's reading of a response.
        sleep: awaited between attempts (tests inject a recorder).
        clock: source of "now" for rate-limit reset times.
        max_retries: retries after the first attempt for transient failures.
        base_delay, max_delay: exponential backoff ``base_delay * 2**attempt`` capped at ``max_delay``.
        max_wait: the longest platform-requested wait we sit through; longer ones give up at once
            with ``retry_after`` set so the scheduler can come back later.
        jitter: applied to backoff delays (not to platform-requested waits).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        platform: str,
        base_url: str,
        headers: Mapping[str, str],
        secrets: Sequence[str],
        classify: Classifier,
        sleep: Sleep = asyncio.sleep,
        clock: Clock | None = None,
        max_retries: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
        max_wait: float = 60.0,
        jitter: Jitter = equal_jitter,
    ) -> None:
        self._http = http
        self.platform = platform
        self.base_url = httpx.URL(base_url if base_url.endswith("/") else base_url + "/")
        self._headers = dict(headers)
        self._secrets = tuple(s for s in secrets if s)
        self._classify = classify
        self._sleep = sleep
        self._clock = clock or SystemClock()
        self._max_retries = max_retries
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._max_wait = max_wait
        self._jitter = jitter

    def __repr__(self) -> str:
        return f"ApiCaller(platform={self.platform!r}, base_url={str(self.base_url)!r})"

    def now(self) -> datetime:
        return self._clock.now()

    def error(
        self,
        kind: PlatformErrorKind,
        detail: str,
        *,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> PlatformError:
        """A ``PlatformError`` whose detail is scrubbed of every secret and kept short."""
        return PlatformError(
            kind, platform=self.platform, detail=self._scrub(detail), retry_after=retry_after, code=code
        )

    def bad_response(self, checks: ShapeCheck, *, where: str) -> PlatformError | None:
        """One BAD_RESPONSE error naming the shape problems of a response, or None when it was fine."""
        if not checks.problems:
            return None
        shown = "; ".join(checks.problems[:10])
        more = f" (+{len(checks.problems) - 10})" if len(checks.problems) > 10 else ""
        return self.error(PlatformErrorKind.BAD_RESPONSE, f"{where}: {shown}{more}")

    async def get_json(self, path: str, params: Mapping[str, str]) -> Mapping[str, Any]:
        """GET ``path`` and return the decoded JSON object.

        Raises:
            PlatformError: when the platform refused, kept failing, or answered with something
                that is not a JSON object.
        """
        body, _headers = await self.get_page(path, params)
        return body

    async def get_page(self, path: str, params: Mapping[str, str]) -> tuple[Mapping[str, Any], httpx.Headers]:
        """:meth:`get_json` that also returns the response headers (rate-limit and usage headers
        tell a listing when to stop paging).

        Raises:
            PlatformError: as :meth:`get_json`.
        """
        url = self.base_url.join(path)
        for attempt in range(self._max_retries + 1):
            outcome = await self._attempt(url, params)
            if not isinstance(outcome[0], Failure):
                return outcome  # (body, headers)
            failure, where = outcome
            detail = f"{where}: {failure.message}" if failure.message else where
            if not failure.transient or attempt == self._max_retries:
                raise self.error(failure.kind, detail, retry_after=failure.retry_after, code=failure.code)
            if failure.retry_after is not None:
                delay = failure.retry_after
            else:
                delay = self._jitter(min(self._max_delay, self._base_delay * 2**attempt))
            if delay > self._max_wait:
                raise self.error(failure.kind, detail, retry_after=delay, code=failure.code)
            await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    async def _attempt(
        self, url: httpx.URL, params: Mapping[str, str]
    ) -> tuple[Mapping[str, Any], httpx.Headers] | tuple[Failure, str]:
        target = f"GET {redact_url(url.copy_merge_params(params))}"
        if len(target) > 200:
            target = target[:200] + "…"
        try:
            response = await self._http.get(url, params=params, headers=self._headers)
        except httpx.RequestError as exc:
            # NOTE: the exception (and its request, whose headers hold the token) is not chained
            # into the PlatformError; only its type and scrubbed text survive.
            return Failure(PlatformErrorKind.NETWORK, f"{type(exc).__name__}: {exc}", transient=True), target
        try:
            decoded: object = response.json()
        except ValueError:  # HTML error pages, empty bodies, bad encodings
            decoded = None
        body = decoded if isinstance(decoded, Mapping) else None
        where = f"{target} -> HTTP {response.status_code}"
        failure = self._classify(response, body, self.now())
        if failure is not None:
            return failure, where
        if body is None:
            content_type = response.headers.get("content-type", "?")
            return Failure(PlatformErrorKind.BAD_RESPONSE, f"not a JSON object ({content_type})"), where
        return body, response.headers

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _MASK)
        return text if len(text) <= _DETAIL_LIMIT else text[:_DETAIL_LIMIT] + "…"


async def map_bounded(items: Sequence[T], fn: Callable[[T], Awaitable[R]], *, limit: int) -> list[R]:
    """``fn`` over ``items`` with at most ``limit`` calls in flight; results in input order.

    A task group (not ``gather``) so that a bug in one call cancels the others instead of
    leaving them running unobserved.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    semaphore = asyncio.Semaphore(limit)

    async def run(item: T) -> R:
        async with semaphore:
            return await fn(item)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(run(item)) for item in items]
    return [task.result() for task in tasks]


async def collect_batches(
    ids: Sequence[str],
    *,
    size: int,
    fetch: Callable[[Sequence[str]], Awaitable[CollectResult]],
) -> CollectResult:
    """Runs ``fetch`` over ``ids`` in batches, stopping at the first error that would repeat."""
    parts: list[CollectResult] = []
    for batch in chunked(ids, size):
        try:
            parts.append(await fetch(batch))
        except PlatformError as err:
            parts.append(CollectResult(errors=[err]))
            if err.stops_collection:
                break
    return CollectResult.combine(parts)
