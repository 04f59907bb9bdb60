"""Built-in plugins. Each is a small module registered through the same public hooks
(``engine.hooks``) that a clinic's own plugins use."""

from plugins import (
    assertiveness,
    bibliotherapy,
    graded_exposure,
    reflective_writing,
    relaxation,
    self_monitoring,
    thought_record,
    worksheets,
)

BUILTINS = (
    self_monitoring,
    thought_record,
    reflective_writing,
    bibliotherapy,
    relaxation,
    assertiveness,
    graded_exposure,
    worksheets,
)
