"""Writing the Bundle: one validated entry at a time, to a temporary file renamed at the end.

The file is JSON with sorted keys, one entry per line, so the same resources always give the
same bytes. Each entry (its resource, and the request of a transaction) is validated with the
FHIR R4B models of ``fhir.resources`` before it is written; the first invalid one stops the
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

from between.engine.errors import BetweenError, InvalidInput
from between.fhir.codes import BASE


class InvalidResource(BetweenError):
    """A resource does not validate against FHIR; nothing was written."""


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class BundleWriter:
    """Streams a Bundle's entries to ``target`` (a path, or standard output when None)."""

    def __init__(self, target: Path | None, transaction: bool) -> None:
        from fhir.resources.R4B import get_fhir_model_class  # heavy: only the export loads it

        self.entry_model = get_fhir_model_class("BundleEntry")
        self.bundle_model = get_fhir_model_class("Bundle")
        self.target = target
        self.transaction = transaction
        self.counts: Counter[str] = Counter()
        folder = target.parent if target is not None else None
        if folder is not None and not folder.is_dir():
            raise InvalidInput(f"cannot write {target}: the folder {folder} does not exist")
        try:
            handle, name = tempfile.mkstemp(
                prefix=f".{target.name}." if target else ".between-fhir.",
                suffix=".tmp",
                dir=folder,
            )
        except OSError as e:
            raise InvalidInput(f"cannot write in {folder or 'the temporary folder'}: {e}") from None
        self.path = Path(name)
        self.file: IO[str] = os.fdopen(handle, "w", encoding="utf-8")

    def add(self, resource: dict[str, Any], about: str) -> None:
        """Validate one resource (``about`` names its record in an error) and write it."""
        kind, rid = resource["resourceType"], resource["id"]
        entry: dict[str, Any] = {"fullUrl": f"{BASE}/{kind}/{rid}", "resource": resource}
        if self.transaction:
            entry["request"] = {"method": "PUT", "url": f"{kind}/{rid}"}
        self._validate(entry, kind, about)
        self.file.write(('{"entry":[\n' if not self.counts else ",\n") + _dumps(entry))
        self.counts[kind] += 1

    def _validate(self, entry: dict[str, Any], kind: str, about: str) -> None:
        from pydantic import ValidationError

        try:
            self.entry_model.model_validate(entry)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            where = kind + where.removeprefix("resource") if where.startswith("resource") else where
            message = first["msg"].removeprefix("Value error, ").rstrip(".")
            raise InvalidResource(
                f"the FHIR {kind} of {about} is invalid at {where}: {message}; nothing was written"
            ) from None

    def finish(self, header: dict[str, Any]) -> None:
        """Close the Bundle with its own elements, validate them, and move it into place."""
        header = {"resourceType": "Bundle", "type": self._type, **header}
        self._validate_header(header)
        rest = _dumps(header)[1:]  # every Bundle element sorts after "entry"
        self.file.write(("\n]," if self.counts else "{") + rest + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        if self.target is None:
            with self.path.open(encoding="utf-8") as done:
                shutil.copyfileobj(done, sys.stdout)
            sys.stdout.flush()
            self.path.unlink()
        else:
            os.replace(self.path, self.target)

    @property
    def _type(self) -> str:
        return "transaction" if self.transaction else "collection"

    def _validate_header(self, header: dict[str, Any]) -> None:
        from pydantic import ValidationError

        try:
            self.bundle_model.model_validate(header)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidResource(f"the Bundle is invalid at {where}: {first['msg']}") from None

    def discard(self) -> None:
        """Remove the temporary file (after a failure)."""
        if not self.file.closed:
            self.file.close()
        self.path.unlink(missing_ok=True)
