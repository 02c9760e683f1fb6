"""`python -m testkit.fakes.openai_server`: see `cli.main`."""

from .cli import main

main()
