"""`python -m imagedrop_cli …` runs the `imagedrop` command."""

from . import main

main()
