"""The shipped PACE plan source suite against both PACE adapters (memory and a folder of JSON
files), with the faults each can stage."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ndis_rules.adapters.pace_jsondir import JsonDirPaceSource
from ndis_rules.adapters.pace_memory import InMemoryPaceSource
from ndis_rules.ports import PacePlanSource
from ndis_rules.testing.contracts import PaceEntry, PaceFault, PacePlanSourceContract


class TestInMemoryPaceSource(PacePlanSourceContract):
    def make_source(self, tmp_path: Path, participants: Sequence[PaceEntry]) -> PacePlanSource:
        source = InMemoryPaceSource()
        for who, plans, authorised in participants:
            source.add_participant(who, plans, authorised=authorised)
        return source

    def failing_source(self, tmp_path: Path, fault: PaceFault) -> PacePlanSource:
        source = InMemoryPaceSource()
        source.fail_always(
            {"timeout": "timeout", "refused": "refused", "payload": "payload"}[fault]
        )
        return source


class TestJsonDirPaceSource(PacePlanSourceContract):
    def make_source(self, tmp_path: Path, participants: Sequence[PaceEntry]) -> PacePlanSource:
        folder = tmp_path / "pace"
        folder.mkdir()
        for who, plans, authorised in participants:
            data = {
                "participant": who.model_dump(mode="json"),
                "authorised": authorised,
                "plans": [p.model_dump(mode="json") for p in plans],
            }
            (folder / f"{who.ndis_number}.json").write_text(json.dumps(data), encoding="utf-8")
        return JsonDirPaceSource(folder)

    def failing_source(self, tmp_path: Path, fault: PaceFault) -> PacePlanSource | None:
        folder = tmp_path / "broken"
        match fault:
            case "refused":  # the folder is not there
                return JsonDirPaceSource(folder)
            case "payload":
                folder.mkdir()
                (folder / "430000001.json").write_text('{"participant": ', encoding="utf-8")
                return JsonDirPaceSource(folder)
            case "timeout":  # a folder cannot time out
                return None
