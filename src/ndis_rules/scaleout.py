"""Moved to :mod:`ndis_rules.services.scaleout` (issue 11); this path forwards for one release
(docs/performance.md named ``ndis_rules.scaleout.check_records`` and ``check_claims_dask``)."""

from ._compat import forward

__getattr__ = forward(
    "ndis_rules.services.scaleout",
    (
        "CatalogueSpec",
        "Record",
        "StreamedReport",
        "check_claims_dask",
        "check_claims_parallel",
        "check_claims_streamed",
        "check_records",
        "combine_summaries",
        "merge_reports",
        "partition_contracts",
        "partition_records",
        "read_records",
    ),
)
