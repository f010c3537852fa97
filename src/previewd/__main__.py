"""``python -m previewd``."""

from previewd.cli.main import main

main()
