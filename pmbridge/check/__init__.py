"""Conformance suites: prove that a live implementation speaks its contract.

    results = await run_custompms_checks("http://127.0.0.1:8765", token)

The command line runs it as ``pmbridge check custompms URL --token T``.
"""

from pmbridge.check.custompms import run_custompms_checks
from pmbridge.check.results import CheckResult

__all__ = ["CheckResult", "run_custompms_checks"]
