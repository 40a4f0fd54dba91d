"""``python -m analogff`` = the ``analogff`` command."""

from analogff.cli import main

main()
