"""pmbridge's benchmarks: the commands that reproduce the README's Performance figures.

Each benchmark is a module run as ``python -m bench.<name>`` from the repository root
(``initial``, ``incremental``, ``ceiling``, ``overhead``); see ``bench/README.md``. Each
starts its own sandboxes on free ports, prints a table and writes
``bench/results/<name>.json``. ``bench.naive`` is the full-refresh baseline the
incremental benchmark compares pmbridge with.
"""
