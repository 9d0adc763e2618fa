"""Subcommands of ``playground`` (diagnose, tour, serve), each a module with ``main(argv)``."""
