"""The chip's file tree, built from :mod:`neweid.formats.filemap`: the MF, the zone DFs (by FID and
AID), their EFs (by FID and SFI), SELECT path resolution and FCP templates (ISO/IEC 7816-4 §7.4).

The tree is fixed; which EFs *exist* (have been written) is the card state's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from neweid.card.errors import CardError
from neweid.formats.filemap import (
    ICAO_TRAVEL_AID,
    MASTER_FILES,
    MF_FID,
    ZONES,
    FileSpec,
    Interface,
    ZoneSpec,
)
from neweid.formats.iso7816 import StatusWord
from neweid.formats.tlv import encode_constructed, encode_tlv

FD_WORKING_EF = 0x01  # file descriptor byte: working EF, transparent structure
FD_DF = 0x38  # file descriptor byte: DF


@dataclass(frozen=True)
class DedicatedFile:
    """The MF (``zone`` None) or a zone DF."""

    fid: int
    aid: bytes | None
    zone: ZoneSpec | None
    files: tuple[FileSpec, ...]

    @property
    def contactless(self) -> bool:
        return self.zone is None or self.zone.contactless

    @property
    def label(self) -> str:
        return "MF" if self.zone is None else f"DF {self.zone.zone.value}"


@dataclass(frozen=True)
class Selection:
    """The outcome of a SELECT: the new current DF and, if an EF was selected, the current EF."""

    df: DedicatedFile
    ef: FileSpec | None = None


def file_key(df: DedicatedFile, ef: FileSpec) -> str:
    """The key of an EF's content in the card state, ``"DDDD/EEEE"`` (DF FID / EF FID, hex)."""
    return f"{df.fid:04X}/{ef.fid:04X}"


class FileSystem:
    """The fixed tree MF → zone DFs → EFs of the New eID chip."""

    def __init__(self) -> None:
        self.mf = DedicatedFile(MF_FID, None, None, MASTER_FILES)
        self.zone_dfs = tuple(DedicatedFile(z.fid, z.aid, z, z.files) for z in ZONES)

    def all_files(self) -> list[tuple[DedicatedFile, FileSpec]]:
        return [(df, ef) for df in (self.mf, *self.zone_dfs) for ef in df.files]

    def df_by_fid(self, fid: int) -> DedicatedFile | None:
        if fid == MF_FID:
            return self.mf
        return next((df for df in self.zone_dfs if df.fid == fid), None)

    def df_by_aid(self, aid: bytes) -> DedicatedFile | None:
        if aid == ICAO_TRAVEL_AID:  # the travel application is closed (CARD-2)
            return None
        return next((df for df in self.zone_dfs if df.aid == aid), None)

    def child_df(self, parent: DedicatedFile, fid: int) -> DedicatedFile | None:
        if parent is not self.mf:
            return None
        return next((df for df in self.zone_dfs if df.fid == fid), None)

    @staticmethod
    def ef_by_fid(df: DedicatedFile, fid: int) -> FileSpec | None:
        return next((ef for ef in df.files if ef.fid == fid), None)

    @staticmethod
    def ef_by_sfi(df: DedicatedFile, sfi: int) -> FileSpec | None:
        return next((ef for ef in df.files if ef.sfi == sfi), None)

    # --- SELECT ---------------------------------------------------------------------------------

    def select_fid(self, current: DedicatedFile, fid: int) -> Selection:
        """P1 ``00``: the MF, a DF or EF under the current DF, or else one under the MF."""
        if fid == MF_FID:
            return Selection(self.mf)
        for df in (current, self.mf):
            ef = self.ef_by_fid(df, fid)
            if ef is not None:
                return Selection(df, ef)
            child = self.child_df(df, fid)
            if child is not None:
                return Selection(child)
        if current.fid == fid:
            return Selection(current)
        raise CardError(StatusWord.FILE_NOT_FOUND, f"no file {fid:04X}")

    def select_path(self, start: DedicatedFile, fids: list[int]) -> Selection:
        """P1 ``08``/``09``: a path of FIDs from ``start``; every FID but the last names a DF."""
        df = start
        for i, fid in enumerate(fids):
            last = i == len(fids) - 1
            child = self.child_df(df, fid)
            if child is not None:
                df = child
                continue
            ef = self.ef_by_fid(df, fid)
            if ef is not None and last:
                return Selection(df, ef)
            raise CardError(StatusWord.FILE_NOT_FOUND, f"no file {fid:04X} on the path")
        return Selection(df)


def check_interface(df: DedicatedFile, ef: FileSpec | None, interface: Interface) -> None:
    """Contact-only DFs and EFs (encrypted and certificate zone) refuse the contactless interface."""
    if interface is Interface.CONTACTLESS and (not df.contactless or (ef is not None and not ef.contactless)):
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "contact interface required")


def fcp(df: DedicatedFile, ef: FileSpec | None, size: int) -> bytes:
    """The FCP template ``62 {80 size, 82 descriptor, 83 FID, 84 AID}`` of the selection."""
    if ef is not None:
        return encode_constructed(0x62, [
            encode_tlv(0x80, size.to_bytes(2, "big")),
            encode_tlv(0x82, bytes([FD_WORKING_EF])),
            encode_tlv(0x83, ef.fid.to_bytes(2, "big")),
        ])
    parts = [encode_tlv(0x82, bytes([FD_DF])), encode_tlv(0x83, df.fid.to_bytes(2, "big"))]
    if df.aid is not None:
        parts.append(encode_tlv(0x84, df.aid))
    return encode_constructed(0x62, parts)
