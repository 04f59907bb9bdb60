"""The homework record as a FHIR R4 Bundle (``between export fhir``; see docs/fhir.md).

``export.export`` walks the log twice and streams validated resources to a ``BundleWriter``.
Only this package imports ``fhir.resources``, and only when an export runs.
"""
