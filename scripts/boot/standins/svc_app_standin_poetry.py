"""Poetry plugin of the boot tier's python stand-in image, never part of a generated project.

This machine's PyPI mirror serves the Simple API but not PyPI's per-release JSON, so Poetry
inside a build finds no files for a locked package. Loading the project's own fallback
(scripts/support/poetry_simple_api.py, copied beside this module) teaches Poetry to read the
Simple API when that JSON is missing; against an index that serves it, nothing changes.
"""

from poetry.plugins.application_plugin import ApplicationPlugin


class SimpleApiFallback(ApplicationPlugin):
    def activate(self, application):  # type: ignore[no-untyped-def]  # noqa: ARG002
        import poetry_simple_api  # noqa: F401  # patches PyPiRepository when imported
