"""``python -m bench [--size tiny]``: every benchmark in a row, each writing its result."""

from __future__ import annotations

import sys

from bench import ceiling, incremental, initial, overhead, start


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for benchmark in (initial, incremental, ceiling, overhead, start):
        benchmark.main(args)


if __name__ == "__main__":
    main()
