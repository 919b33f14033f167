"""`python -m stiva` is the `stiva` command."""

from stiva.cli import main

main()
