"""The `ltc-control` command line."""
