"""Safety limits and bad input: scope, budget, rate, TLS, redirects, huge, binary and slow responses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from dast_helpers import scan
from dast_servers import drip_server, misc_app, serve

from bastion.errors import InputError, UsageError
from bastion.scan.dast.http import (
    BudgetExhausted,
    Fetcher,
    FetcherOptions,
    FetchError,
    Scope,
    check_target,
    normalize_url,
    origin_of,
)
from bastion.scan.dast.scanner import DastOptions, scan_async


@pytest.fixture(scope="module")
def misc_url() -> Iterator[str]:
    with serve(misc_app()) as url:
        yield url


def test_scope_refuses_targets_outside_it() -> None:
    with pytest.raises(UsageError, match="outside --scope"):
        Scope.for_target("http://127.0.0.1:9/app/", r"^http://127\.0\.0\.1:9/other/")
    scope = Scope.for_target("http://127.0.0.1:9/app/", r"/app/")
    assert scope.allows("http://127.0.0.1:9/app/x")
    assert not scope.allows("http://127.0.0.1:9/other")
    assert not scope.allows("http://127.0.0.2:9/app/x")  # another origin never


def test_fetcher_never_sends_out_of_scope(misc_url: str) -> None:
    async def go() -> None:
        async with Fetcher(Scope.for_target(misc_url + "/", None), FetcherOptions()) as fetcher:
            with pytest.raises(UsageError, match="outside the scan scope"):
                await fetcher.request("GET", "http://example.com/")
            assert fetcher.requests == 0

    asyncio.run(go())


def test_scope_limits_the_crawl(plain_url: str) -> None:
    result = scan(plain_url + "/", scope=r"^http://127\.0\.0\.1:\d+/(?:$|about|contact)")
    assert result.pages == 3  # the start page, /about and /contact; robots.txt and the rest are out of scope


def test_max_requests_is_honoured(plain_url: str) -> None:
    result = scan(plain_url + "/", max_requests=7, active=True)
    assert result.requests == 7
    assert any("--max-requests 7 reached" in n for n in result.notices)


def test_rate_is_honoured(plain_url: str) -> None:
    started = time.monotonic()
    result = scan(plain_url + "/", max_requests=11, rate=20.0)
    elapsed = time.monotonic() - started
    assert result.requests == 11
    assert elapsed >= 0.45  # 11 requests at 20/s need 10 intervals of 50 ms


def test_time_limit_stops_the_scan(plain_url: str) -> None:
    result = scan(plain_url + "/", time_limit_s=0.3, rate=10.0)
    assert any("time limit" in n for n in result.notices)
    assert result.requests <= 5


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("example.com", r"not an http\(s\) URL"),
        ("javascript:alert(1)", r"not an http\(s\) URL"),
        ("https:///path", "no host"),
        ("http://host:notaport/", "invalid port"),
    ],
)
def test_invalid_urls(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_target(url)


def test_tls_error_has_a_clear_message(vulnerable_url: str) -> None:
    with pytest.raises(InputError, match=r"TLS certificate verification failed .*--insecure"):
        scan(vulnerable_url + "/", insecure=False)


def test_redirect_loop_at_the_target_is_an_error(misc_url: str) -> None:
    with pytest.raises(InputError, match=r"redirect loop \(.*/loop -> .*/loop2 -> .*/loop\)"):
        scan(misc_url + "/loop")


def test_redirect_loop_inside_the_site_is_crawled_once(misc_url: str) -> None:
    result = scan(misc_url + "/")
    assert result.requests < 15


def test_huge_response_is_capped_and_binary_content_skipped(misc_url: str) -> None:
    started = time.monotonic()
    result = scan(misc_url + "/", max_response_bytes=1_000_000)
    assert time.monotonic() - started < 10
    assert any("/big: response larger than 1000000 bytes" in n for n in result.notices)
    assert result.pages >= 5  # /, /big, /logo.png, /data.json, /loop, /loop2 ...


def test_one_byte_per_second_server_times_out() -> None:
    with drip_server() as url:
        started = time.monotonic()
        with pytest.raises(InputError, match=r"no complete answer within 1\.5s"):
            scan(url + "/", timeout_s=1.5)
        assert time.monotonic() - started < 5


def test_connection_refused_is_an_input_error() -> None:
    with pytest.raises(InputError, match="cannot connect"):
        scan("http://127.0.0.1:9/", timeout_s=2)


def test_too_many_redirects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.path.strip("/") or 0)
        return httpx.Response(302, headers={"location": f"/{number + 1}"})

    async def go() -> None:
        options = FetcherOptions(max_redirects=3, rate=0)
        async with Fetcher(
            Scope.for_target("http://t.test/", None), options, httpx.MockTransport(handler)
        ) as f:
            with pytest.raises(FetchError, match="more than 3 redirects"):
                await f.get_following("http://t.test/")
            f.options = FetcherOptions(max_requests=f.requests)
            with pytest.raises(BudgetExhausted):
                await f.request("GET", "http://t.test/")

    asyncio.run(go())


def test_redirect_out_of_scope_is_not_followed() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"location": "https://elsewhere.test/"})

    async def go() -> None:
        async with Fetcher(
            Scope.for_target("http://t.test/", None), FetcherOptions(rate=0), httpx.MockTransport(handler)
        ) as f:
            response = await f.get_following("http://t.test/")
            assert response.status == 301 and f.requests == 1

    asyncio.run(go())


def test_url_helpers() -> None:
    assert origin_of("HTTPS://Example.COM:443/a") == "https://example.com"
    assert origin_of("http://[::1]:8080/") == "http://[::1]:8080"
    assert normalize_url("/a/../b#frag", "http://h.test/x/") == "http://h.test/b"
    assert normalize_url("mailto:a@b.c", "http://h.test/") is None
    assert normalize_url("http://h.test:bad/", None) is None
    assert normalize_url("?q=1", "http://h.test/p") == "http://h.test/p?q=1"


def test_auth_header_and_cookies_are_sent_and_never_reported() -> None:
    seen: list[httpx.Request] = []
    token = "Bearer " + "tok-" + "9f8e7d6c5b4a"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"content-type": "text/html"}, text="<html><p>private</p></html>")

    options = FetcherOptions(rate=0, headers={"Authorization": token}, cookies={"sid": "s3ss10n"})
    transport = httpx.MockTransport(handler)
    result = asyncio.run(scan_async(DastOptions("http://t.test/", options), transport=transport))
    assert all(r.headers["authorization"] == token and "sid=s3ss10n" in r.headers["cookie"] for r in seen)
    rules = {f.rule_id for f in result.findings}
    assert "dast.cache-control" in rules  # authenticated responses without no-store
    text = repr(result)
    assert "9f8e7d6c5b4a" not in text and "s3ss10n" not in text


def test_depth_zero_fetches_only_the_start_page_and_metafiles(plain_url: str) -> None:
    result = scan(plain_url + "/", max_depth=0)
    assert result.pages == 1
    assert any("crawl stopped at depth 0" in n for n in result.notices)


def test_a_dropped_keep_alive_connection_is_retried_once_and_counted() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) % 2 == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, text="ok")

    async def go() -> None:
        options = FetcherOptions(rate=0, max_requests=3)
        scope = Scope.for_target("http://t.test/", None)
        async with Fetcher(scope, options, httpx.MockTransport(handler)) as f:
            assert (await f.request("GET", "http://t.test/a")).status == 200
            assert f.requests == 2
            with pytest.raises(FetchError, match="Server disconnected"):
                await f.request("GET", "http://t.test/b")  # the third request may not retry: budget spent
            assert f.requests == 3

    asyncio.run(go())
