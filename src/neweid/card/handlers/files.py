"""SELECT, READ BINARY, UPDATE BINARY and ERASE BINARY (ISO/IEC 7816-4 §11.1, §11.2)."""

from __future__ import annotations

from neweid.card.access import require_personalisation, require_read, require_update
from neweid.card.apdu import EXTENDED_MAX, SHORT_MAX, CommandApdu
from neweid.card.errors import CardError, CardWarningError
from neweid.card.filesystem import DedicatedFile, Selection, check_interface, fcp, file_key
from neweid.card.state import CardContext
from neweid.formats.filemap import FileSpec, Zone
from neweid.formats.iso7816 import StatusWord

P2_FCP = (0x00, 0x04)
P2_NO_DATA = 0x0C
MAX_OFFSET = 0x7FFF


def _exists(ctx: CardContext, df: DedicatedFile, ef: FileSpec) -> bool:
    """An EF exists once written; during personalisation every EF of the map exists (to be written)."""
    return not ctx.operational or file_key(df, ef) in ctx.persistent.files


def _fids(data: bytes) -> list[int]:
    if not data or len(data) % 2:
        raise CardError(StatusWord.LC_INCONSISTENT_WITH_P1P2, "a path is a sequence of 2-byte FIDs")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def _resolve(ctx: CardContext, apdu: CommandApdu) -> Selection:
    fs, session = ctx.fs, ctx.session
    p1, data = apdu.p1, apdu.data
    if p1 == 0x00:
        if not data:
            return Selection(fs.mf)
        if len(data) != 2:
            raise CardError(StatusWord.LC_INCONSISTENT_WITH_P1P2, "a FID has 2 bytes")
        return fs.select_fid(session.current_df, int.from_bytes(data, "big"))
    if p1 == 0x01:
        if len(data) != 2:
            raise CardError(StatusWord.LC_INCONSISTENT_WITH_P1P2, "a FID has 2 bytes")
        child = fs.child_df(session.current_df, int.from_bytes(data, "big"))
        if child is None:
            raise CardError(StatusWord.FILE_NOT_FOUND, "no such child DF")
        return Selection(child)
    if p1 == 0x02:
        if len(data) != 2:
            raise CardError(StatusWord.LC_INCONSISTENT_WITH_P1P2, "a FID has 2 bytes")
        ef = fs.ef_by_fid(session.current_df, int.from_bytes(data, "big"))
        if ef is None:
            raise CardError(StatusWord.FILE_NOT_FOUND, "no such EF")
        return Selection(session.current_df, ef)
    if p1 == 0x04:
        if not 1 <= len(data) <= 16:
            raise CardError(StatusWord.WRONG_DATA, "an AID has 1 to 16 bytes")
        df = fs.df_by_aid(data)
        if df is None:
            raise CardError(StatusWord.FILE_NOT_FOUND, "no application with this AID")
        return Selection(df)
    if p1 == 0x08:
        return fs.select_path(fs.mf, _fids(data))
    if p1 == 0x09:
        return fs.select_path(session.current_df, _fids(data))
    raise CardError(StatusWord.INCORRECT_P1P2, f"SELECT P1 {p1:02X} not supported")


def select(ctx: CardContext, apdu: CommandApdu) -> bytes:
    if apdu.p2 not in (*P2_FCP, P2_NO_DATA):
        raise CardError(StatusWord.INCORRECT_P1P2, f"SELECT P2 {apdu.p2:02X} not supported")
    sel = _resolve(ctx, apdu)
    check_interface(sel.df, sel.ef, ctx.session.interface)
    if ctx.persistent.cert_zone_closed and sel.df.zone is not None and sel.df.zone.zone is Zone.CERTIFICATE:
        raise CardError(StatusWord.FILE_NOT_FOUND, "the certificate zone is closed")
    if sel.ef is not None and not _exists(ctx, sel.df, sel.ef):
        raise CardError(StatusWord.FILE_NOT_FOUND, f"{sel.ef.name} not present")
    ctx.session.current_df, ctx.session.current_ef = sel.df, sel.ef
    if apdu.p2 == P2_NO_DATA:
        return b""
    size = 0 if sel.ef is None else len(ctx.persistent.files.get(file_key(sel.df, sel.ef), b""))
    return fcp(sel.df, sel.ef, size)


def _target(ctx: CardContext, apdu: CommandApdu) -> tuple[DedicatedFile, FileSpec, int]:
    """The EF and offset addressed by P1P2: SFI in P1 (bit 8 set) + offset P2, or a 15-bit offset
    in the current EF. Selecting by SFI makes that EF current."""
    session = ctx.session
    if apdu.p1 & 0x80:
        if apdu.p1 & 0x60:
            raise CardError(StatusWord.INCORRECT_P1P2, "P1 bits 6-7 must be 0 with an SFI")
        sfi = apdu.p1 & 0x1F
        df = session.current_df
        ef = ctx.fs.ef_by_sfi(df, sfi)
        if ef is None or not _exists(ctx, df, ef):
            raise CardError(StatusWord.FILE_NOT_FOUND, f"no EF with SFI {sfi:02X}")
        check_interface(df, ef, session.interface)
        session.current_ef = ef
        return df, ef, apdu.p2
    if session.current_ef is None:
        raise CardError(StatusWord.COMMAND_NOT_ALLOWED_NO_EF, "no current EF")
    return session.current_df, session.current_ef, apdu.p1p2


def read_binary(ctx: CardContext, apdu: CommandApdu) -> bytes:
    df, ef, offset = _target(ctx, apdu)
    if apdu.ne is None:
        raise CardError(StatusWord.WRONG_LENGTH, "READ BINARY needs Le")
    require_read(ctx, df, ef)
    content = ctx.persistent.files.get(file_key(df, ef), b"")
    if offset >= len(content):
        raise CardError(StatusWord.WRONG_P1P2, "offset beyond the end of the file")
    data = content[offset:offset + apdu.ne]
    wildcard = apdu.ne in (SHORT_MAX, EXTENDED_MAX)  # Le 00 / 0000: up to the end of the file
    if len(data) < apdu.ne and not wildcard:
        raise CardWarningError(StatusWord.WARNING_END_OF_FILE, data, "end of file reached before Le bytes")
    return data


def update_binary(ctx: CardContext, apdu: CommandApdu) -> bytes:
    df, ef, offset = _target(ctx, apdu)
    require_update(ctx, df, ef)
    if not apdu.data:
        raise CardError(StatusWord.WRONG_LENGTH, "UPDATE BINARY needs data")
    key = file_key(df, ef)
    content = ctx.persistent.files.get(key, b"")
    end = offset + len(apdu.data)
    if end > ef.max_size:
        raise CardError(StatusWord.NOT_ENOUGH_MEMORY, f"{ef.name} holds at most {ef.max_size} bytes")
    if offset > len(content):
        content += bytes(offset - len(content))
    ctx.persistent.files[key] = content[:offset] + apdu.data + content[end:]
    ctx.changed()
    return b""


def erase_binary(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """Personalisation only: truncate the current EF at the offset (empty at 0: the EF disappears)."""
    require_personalisation(ctx)
    df, ef, offset = _target(ctx, apdu)
    if apdu.data:
        raise CardError(StatusWord.WRONG_LENGTH, "ERASE BINARY takes the offset in P1P2, no data")
    key = file_key(df, ef)
    content = ctx.persistent.files.get(key, b"")
    if offset > len(content):
        raise CardError(StatusWord.WRONG_P1P2, "offset beyond the end of the file")
    if offset == 0:
        ctx.persistent.files.pop(key, None)
    else:
        ctx.persistent.files[key] = content[:offset]
    ctx.changed()
    return b""
