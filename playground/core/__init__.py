"""The lab's core: models, engine and session, experiments and their plain results.

Nothing here imports Textual or Rich, so the same code serves the app, the CLI, the
exported scripts' tests and the benchmark.
"""
