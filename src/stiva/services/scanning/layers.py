"""Layer analyses, each made once per (layer digest, ANALYZER_VERSION) and kept in the database.

`analyse(ctx, digest)` answers from `layer_analyses` when it can; otherwise it streams the blob
from storage through `stiva.scanning.layer.analyze_layer` (never more than the analyzer's
buffers in memory, no database transaction open while it reads) and stores the result in a
short unit of work of its own. A layer the analyzer rejects (a bomb, a traversal, a truncated
stream) is cached as rejected with its reason, so it is never read twice. A blob missing from
storage is not cached: pushing it again heals the scan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from stiva.metadata import models as m
from stiva.metadata.dialect import insert_ignore, lock_blobs
from stiva.oci.digest import Digest
from stiva.scanning.errors import AnalysisVersionMismatch, LayerRejected
from stiva.scanning.layer import ANALYZER_VERSION, LayerAnalysis, Limits, analyze_layer
from stiva.services.blobs import open_blob
from stiva.services.context import RegistryContext

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Cached:
    analysis: LayerAnalysis | None
    rejected: str | None


def cached(session: Session, digest: str) -> Cached | None:
    row = session.get(m.LayerAnalysisCache, (digest, ANALYZER_VERSION))
    if row is None:
        return None
    if row.rejected is not None or row.analysis is None:
        return Cached(None, row.rejected or "the layer could not be analysed")
    try:
        return Cached(LayerAnalysis.from_json(row.analysis), None)
    except AnalysisVersionMismatch:
        return None


def _store(ctx: RegistryContext, digest: str, result: Cached, uncompressed: int) -> None:
    row = {
        "digest": digest,
        "analyzer_version": ANALYZER_VERSION,
        "analysis": result.analysis.to_json() if result.analysis else None,
        "rejected": result.rejected,
        "uncompressed_bytes": uncompressed,
        "created_at": ctx.now(),
    }
    with ctx.db.write() as session:
        lock_blobs(session, [digest])  # the row refers to the blob: GC must not delete it now
        if session.get(m.Blob, digest) is not None:  # gone meanwhile (GC): nothing to cache
            insert_ignore(session, m.LayerAnalysisCache.__table__, [row])  # type: ignore[arg-type]


def _read(ctx: RegistryContext, digest: str, limits: Limits) -> Cached:
    stream = open_blob(ctx.storage, Digest.parse(digest))
    try:
        analysis = analyze_layer(stream, limits)
    except LayerRejected as exc:
        return Cached(None, exc.reason)
    finally:
        stream.close()
    return Cached(analysis, None)


def analyse(ctx: RegistryContext, digest: str, limits: Limits | None = None) -> Cached:
    """The analysis of one layer (cached or made now); `rejected` says why there is none.

    Raises BlobNotFound when the blob is missing from storage.
    """
    with ctx.db.read() as session:
        hit = cached(session, digest)
    if hit is not None:
        return hit
    result = _read(ctx, digest, limits or Limits())
    uncompressed = result.analysis.uncompressed_bytes if result.analysis else 0
    _store(ctx, digest, result, uncompressed)
    return result
