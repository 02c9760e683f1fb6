"""Shared infrastructure of the tests and the benchmarks: the app process under test
(`testkit.app`), Debian's Chromium (`testkit.browser`), throw-away PostgreSQL databases
(`testkit.postgres`), the production topology without Docker (`testkit.topology`), loopback
helpers (`testkit.net`) and hand-written fakes of everything the app talks to (`testkit.fakes`).

`tests/` and `bench/` both import it; neither imports the other. It is not part of the shipped
package (setuptools installs `chatapp*` only): pytest and `python -m bench.run` import it from the
checkout's root.
"""
