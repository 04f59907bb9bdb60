"""Writing the Bundle: one validated entry at a time, to a temporary file renamed at the end.

The file is JSON with sorted keys, one entry per line, so the same resources always give the
same bytes. Each resource is validated with the FHIR R4B models of ``fhir.resources`` before
it is written (and the entry around it, the same for all, once); the first invalid one stops the
export with one line naming the record and the element, and the temporary file is removed:
nothing partial is ever left at the target.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import IO, Any

from between.commands.output_file import OutputFile
from between.engine.errors import InvalidInput
from between.fhir_r4.codes import BASE
from between.fhir_r4.validate import Validator, invalid, problem


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class BundleWriter:
    """Streams a Bundle's entries to ``target`` (a path, or standard output when None)."""

    def __init__(self, target: Path | None, transaction: bool) -> None:
        self.validator = Validator()  # in this process; ``export`` may hand it workers
        self.target = target
        self.transaction = transaction
        self.counts: Counter[str] = Counter()
        self.output: OutputFile | None = None
        if target is not None:  # checked as every file Between writes (commands.output_file)
            self.output = OutputFile(target)
            self.path = self.output.temporary
            self.file: IO[str] = self.output.file
            return
        try:
            handle, name = tempfile.mkstemp(prefix=".between-fhir.", suffix=".tmp")
        except OSError as e:
            raise InvalidInput(
                "cannot write in the temporary folder: %(reason)s", reason=str(e.strerror or e)
            ) from None
        self.path = Path(name)
        self.file = os.fdopen(handle, "w", encoding="utf-8")

    def add(self, resource: dict[str, Any], about: str) -> None:
        """Validate one resource (``about`` names its record in an error) and write it."""
        kind, rid = resource["resourceType"], resource["id"]
        text = _dumps(resource)
        self.validator.check(kind, text, about)
        wrapper: dict[str, Any] = {"fullUrl": f"{BASE}/{kind}/{rid}"}
        if self.transaction:
            wrapper["request"] = {"method": "PUT", "url": f"{kind}/{rid}"}
        if not self.counts:  # every entry has the same shape: check it once
            self._check("BundleEntry", _dumps(wrapper), about)
        # The same bytes as dumping the entry with sorted keys: "resource" sorts last.
        line = _dumps(wrapper)[:-1] + ',"resource":' + text + "}"
        self.file.write(('{"entry":[\n' if not self.counts else ",\n") + line)
        self.counts[kind] += 1

    def _check(self, kind: str, text: str, about: str) -> None:
        found = problem(kind, text)
        if found is not None:
            raise invalid(kind, about, found)

    def finish(self, header: dict[str, Any]) -> None:
        """Close the Bundle with its own elements, validate them, and move it into place."""
        self.validator.finish()
        header = {"resourceType": "Bundle", "type": self._type, **header}
        rest = _dumps(header)
        self._check("Bundle", rest, "this export")
        rest = rest[1:]  # every Bundle element sorts after "entry"
        self.file.write(("\n]," if self.counts else "{") + rest + "\n")
        if self.output is not None:
            self.output.commit()  # renamed over the target, or a one-line refusal
            return
        self.file.flush()
        self.file.close()
        with self.path.open(encoding="utf-8") as done:
            shutil.copyfileobj(done, sys.stdout)
        sys.stdout.flush()
        self.path.unlink()

    @property
    def _type(self) -> str:
        return "transaction" if self.transaction else "collection"

    def discard(self) -> None:
        """Stop the workers and remove the temporary file (after a failure)."""
        self.validator.close()
        if self.output is not None:
            self.output.discard()
            return
        if not self.file.closed:
            self.file.close()
        self.path.unlink(missing_ok=True)
