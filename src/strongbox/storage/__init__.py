"""Blob stores: one small interface (:class:`base.BlobStore`) and its adapters.

Adapters: :mod:`local` (plain files, atomic writes), :mod:`memory` (tests and tools),
:mod:`faulty` (wraps another store and injects failures). Nothing here knows what the
bytes mean; the vault format lives in :mod:`strongbox.dataplane`.
"""
