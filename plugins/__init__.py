"""Built-in plugins. Each is a small module registered through the same public hooks
(``engine.hooks``) that a clinic's own plugins use."""

from plugins import (
    assertiveness,
    bibliotherapy,
    console,
    graded_exposure,
    reflective_writing,
    relaxation,
    self_monitoring,
    smtp_email,
    thought_record,
    webhook,
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
    console,
    smtp_email,
    webhook,
)
