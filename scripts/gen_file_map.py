#!/usr/bin/env python3
"""Render docs/card-file-map.md from neweid.formats.filemap (CARD-2, CARD-3, CARD-7, CARD-9).

Usage::

    python scripts/gen_file_map.py            # (re)write docs/card-file-map.md
    python scripts/gen_file_map.py --check    # exit 1 if the document is missing or stale

The document is generated, never edited by hand: change ``src/neweid/formats/filemap.py`` and rerun.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from neweid.formats import zones as zone_formats
from neweid.formats.filemap import (
    EF_SOD_FID,
    ICAO_TRAVEL_AID,
    MASTER_FILES,
    MF_FID,
    ZONES,
    Access,
    FileSpec,
    ZoneSpec,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "card-file-map.md"

#: CARD-9: the chip offers at least 120 KB of usable memory (taken as KiB, the stricter reading).
USABLE_MEMORY_BYTES = 120 * 1024

_CONDITION_LABELS: tuple[tuple[Access, str], ...] = (
    (Access.SM, "SM"),
    (Access.PIN1, "PIN1"),
    (Access.PIN2, "PIN2"),
    (Access.TA, "TA"),
)

_LEGEND: tuple[tuple[str, str], ...] = (
    ("always", "no condition: readable in plain, without secure messaging (household zone, EF.DIR, "
               "EF.CardAccess)"),
    ("SM", "secure messaging established by PACE with the CAN or the MRZ; every command and response is "
           "protected (CARD-3)"),
    ("PIN1", "PIN1 (6 digits) verified in the current session, contact interface"),
    ("PIN2", "PIN2 (8-12 digits) verified in the current session, contact interface (key use)"),
    ("TA", "Terminal Authentication with a CV certificate chain CVCA → DV → terminal whose effective "
           "CHAT grants this data group (read) or update rights (update) — EAC"),
    ("never", "no command can satisfy it"),
    ("read-only", "update condition *never*: written during personalisation, then fixed for the life of "
                  "the card; a change needs a new card (CARD-7)"),
    ("updatable", "may be rewritten on an operational card by an authorised update terminal, then the "
                  "zone's EF.SOD is re-signed (CARD-7, MGMT-11)"),
)


def describe_access(access: Access) -> str:
    """The human-readable form of a read condition: ``always``, ``never`` or ``SM + PIN1 + TA``."""
    if access & Access.NEVER:
        return "never"
    parts = [label for flag, label in _CONDITION_LABELS if access & flag]
    return " + ".join(parts) if parts else "always"


def describe_update(access: Access) -> str:
    if access & Access.NEVER:
        return "read-only"
    return f"updatable ({describe_access(access)})"


def _hex(value: int, width: int) -> str:
    return f"{value:0{width}X}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _interfaces(contactless: bool) -> str:
    return "contact, contactless" if contactless else "contact only"


_FILE_HEADER = ("file", "FID", "SFI", "content", "encoding", "read", "update", "interfaces", "max size")


def _file_rows(files: Iterable[FileSpec]) -> list[str]:
    lines = [_row(_FILE_HEADER), _row(["---"] * len(_FILE_HEADER))]
    for spec in files:
        lines.append(_row((
            spec.name, _hex(spec.fid, 4), _hex(spec.sfi, 2), spec.content, spec.encoding,
            describe_access(spec.read), describe_update(spec.update), _interfaces(spec.contactless),
            f"{spec.max_size:,}",
        )))
    return lines


def _zone_heading(zone: ZoneSpec) -> str:
    return f"{zone.zone.value.capitalize()} zone ({zone.label_zh})"


def _tree() -> list[str]:
    lines = ["```", f"MF {_hex(MF_FID, 4)}"]
    entries: list[str] = [
        f"EF {spec.name:<16} {_hex(spec.fid, 4)}  SFI {_hex(spec.sfi, 2)}" for spec in MASTER_FILES
    ]
    for zone in ZONES:
        entries.append(f"DF {zone.zone.value:<16} {_hex(zone.fid, 4)}  AID {zone.aid.hex().upper()}  "
                       f"{zone.label_zh}")
    for index, entry in enumerate(entries):
        lines.append(("└── " if index == len(entries) - 1 else "├── ") + entry)
    lines.append("```")
    return lines


def _zone_total(zone: ZoneSpec) -> int:
    return sum(spec.max_size for spec in zone.files)


def total_max_size() -> int:
    """Sum of the maximum sizes of every EF of the chip (CARD-9 budget)."""
    return sum(spec.max_size for spec in MASTER_FILES) + sum(_zone_total(zone) for zone in ZONES)


def _budget() -> list[str]:
    header = ("part", "files", "sum of max sizes (bytes)")
    lines = [_row(header), _row(["---"] * len(header))]
    lines.append(_row(("master file (MF)", str(len(MASTER_FILES)),
                       f"{sum(spec.max_size for spec in MASTER_FILES):,}")))
    for zone in ZONES:
        lines.append(_row((_zone_heading(zone), str(len(zone.files)), f"{_zone_total(zone):,}")))
    total = total_max_size()
    lines.append(_row(("**total**", str(len(MASTER_FILES) + sum(len(z.files) for z in ZONES)),
                       f"**{total:,}**")))
    fits = total <= USABLE_MEMORY_BYTES
    verdict = "fits" if fits else "DOES NOT FIT"
    lines += [
        "",
        f"CARD-9 requires at least 120 KB of usable chip memory ({USABLE_MEMORY_BYTES:,} bytes, counting "
        f"1 KB = 1,024 bytes). With every file at its maximum size the data take {total:,} bytes "
        f"({total / 1024:.1f} KiB, {100 * total / USABLE_MEMORY_BYTES:.0f} % of the budget): the layout "
        f"**{verdict}**, leaving {USABLE_MEMORY_BYTES - total:,} bytes for file-system overhead, keys, "
        "PIN records and the certificate zone's on-card key pairs.",
    ]
    return lines


def _tag_plan() -> list[str]:
    """The data-group tag plan, taken from the table in ``neweid.formats.zones``' docstring."""
    lines = (zone_formats.__doc__ or "").splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("=====")]
    if len(rules) < 3:
        return []
    return [
        "## Data-group encoding",
        "",
        "Every DG file is one BER-TLV with the application tag `0x60 + n` for DG *n* holding primitive "
        "context-specific fields from `80` upwards (details and validation rules: `neweid.formats.zones`):",
        "",
        "```",
        *(line.rstrip() for line in lines[rules[0]:rules[-1] + 1]),
        "```",
        "",
    ]


def render() -> str:
    """The whole Markdown document, deterministic for a given filemap."""
    lines: list[str] = [
        "# Card file map (CARD-2, CARD-3, CARD-7, CARD-9)",
        "",
        "<!-- Generated by scripts/gen_file_map.py from src/neweid/formats/filemap.py. Do not edit by hand: "
        "change filemap.py and run `python scripts/gen_file_map.py`. -->",
        "",
        "Every file of the New eID chip: where it lives, how it is addressed, what it holds, who may read "
        "it and whether it can change after personalisation. The card (`neweid.card`) and the host "
        "(`neweid.terminal`) both take these rules from `neweid.formats.filemap`; the commands that use "
        "them are in [protocol-profile.md](protocol-profile.md).",
        "",
        "## Layout",
        "",
        *_tree(),
        "",
        f"Inside each zone DF, data group *n* is the EF with FID `01nn` and SFI *n*; the zone's security "
        f"object EF.SOD (FID `{_hex(EF_SOD_FID, 4)}`) holds the Document Signer's signature over the "
        "hashes of the zone's data groups (Passive Authentication, PKI-4). The ICAO travel application "
        f"(AID `{ICAO_TRAVEL_AID.hex().upper()}`) is deliberately absent: SELECT answers `6A82` (CARD-2).",
        "",
        "## Access conditions",
        "",
        _row(("term", "meaning")),
        _row(("---", "---")),
        *(_row((f"**{term}**", meaning)) for term, meaning in _LEGEND),
        "",
        "Conditions combine: `SM + PIN1 + TA` needs all three. The encrypted and certificate zones refuse "
        "the contactless interface (`6985`); a read without its condition answers `6982`.",
        "",
        "## Master file (MF)",
        "",
        *_file_rows(MASTER_FILES),
    ]
    for zone in ZONES:
        lines += [
            "",
            f"## {_zone_heading(zone)}",
            "",
            f"DF FID `{_hex(zone.fid, 4)}`, AID `{zone.aid.hex().upper()}`, "
            f"interfaces: {_interfaces(zone.contactless)}.",
            "",
            *_file_rows(zone.files),
        ]
    lines += ["", *_tag_plan(), "## Memory budget (CARD-9)", "", *_budget(), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the document is missing or out of date")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="document path")
    args = parser.parse_args(argv)
    text = render()
    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            sys.stderr.write(f"{output} is stale: run python scripts/gen_file_map.py\n")
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
