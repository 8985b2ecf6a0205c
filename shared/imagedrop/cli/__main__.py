"""`python -m imagedrop.cli …` runs the `imagedrop` command."""

from . import main

main()
