"""`python -m imagedrop …` runs the `imagedrop` command."""

from .cli import main

main()
