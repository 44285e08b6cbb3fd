"""Run the Custompms conformance suite against one implementation and clean up after it.

Every reason reported has the token masked (``***``), as ``pmbridge sync`` masks it in a
server's error text: an implementation may echo the credential it was sent.
"""

from __future__ import annotations

import httpx

from pmbridge.check.custompms_checks import CHECKS, CONNECT
from pmbridge.check.custompms_optional import OPTIONAL_CHECKS, check_capabilities
from pmbridge.check.probe import Probe, Unreachable
from pmbridge.check.results import Check, CheckFailed, CheckResult
from pmbridge.errors import ConfigError, UnavailableError

CLEANUP = "cleanup: everything the suite created is soft-deleted"
CAPABILITIES = Check(
    "capabilities: the contract version and optional parts declared", check_capabilities
)


def mask(text: str, token: str) -> str:
    """``text`` with every occurrence of the token replaced by ``***``."""
    return text.replace(token, "***") if token else text


async def _run(check: Check, probe: Probe) -> CheckResult:
    try:
        seen = await check.run(probe)
    except CheckFailed as failed:
        return CheckResult(check.name, False, str(failed))
    except Unreachable:
        raise
    except Exception as err:  # an answer of a shape no check foresaw: report it, go on
        return CheckResult(check.name, False, f"unexpected answer ({type(err).__name__}: {err})")
    return CheckResult(check.name, True, seen)


async def run_custompms_checks(
    base_url: str,
    token: str,
    *,
    http: httpx.AsyncClient | None = None,
    request_timeout: float = 10.0,
) -> list[CheckResult]:
    """Every check of the contract against the Custompms at ``base_url``, then the cleanup.

    Raises ``UnavailableError`` when the server cannot be reached at all, ``ConfigError``
    for a URL that is not http(s) or an empty token. When the token is refused only the
    first (connect) check is reported.
    """
    url = httpx.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"{base_url!r} is not an http(s) URL with a host, e.g. http://127.0.0.1:8765"
        )
    if not token:
        raise ConfigError("no Custompms token: pass --token or set PMBRIDGE_CUSTOMPMS_TOKEN")
    client = http or httpx.AsyncClient(timeout=request_timeout)
    probe = Probe(base_url, token, client)
    host = f"{url.host}:{url.port}" if url.port else url.host
    results: list[CheckResult] = []
    try:
        connect = await _run(CONNECT, probe)
        results.append(connect)
        if connect.passed:
            for check in CHECKS:
                results.append(await _run(check, probe))
            results.append(await _run(CAPABILITIES, probe))
            if results[-1].passed:
                declared = (await probe.capabilities()).features
                for feature, name, run in OPTIONAL_CHECKS:
                    if feature in declared:
                        results.append(await _run(Check(name, run), probe))
    except Unreachable as err:
        raise UnavailableError(
            f"Custompms at {host} cannot be reached ({mask(str(err), token)}): check that it "
            "is running and that the URL is right",
            system="custompms",
        ) from err
    finally:
        try:
            deleted, problems = await probe.cleanup()
        finally:
            if http is None:
                await client.aclose()
    if probe.created or problems:
        if problems:
            results.append(CheckResult(CLEANUP, False, "; ".join(problems)))
        else:
            results.append(CheckResult(CLEANUP, True, f"{deleted} record(s) soft-deleted"))
    return [CheckResult(r.name, r.passed, mask(r.reason, token)) for r in results]
