"""The data plane: a vault library that knows no HTTP and no SQL.

Pipeline, in this order, for every byte backed up:
chunk (FastCDC) -> id (keyed BLAKE3) -> dedupe (index) -> compress (zstd, when it pays)
-> encrypt (AES-256-GCM) -> pack -> store. Metadata (tree, index, snapshots) is encrypted too.
Entry point: :class:`strongbox.dataplane.repository.Repository`. Format: ``docs/formats/``.
"""
