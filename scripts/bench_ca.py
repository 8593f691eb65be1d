#!/usr/bin/env python3
"""Benchmarks of the citizen CA (issue 5): a CRL of 1,000,000 entries, and OCSP over HTTP on loopback
side by side with `openssl ocsp -index ... -port` serving the same certificates.

    .venv/bin/python scripts/bench_ca.py crl  [--entries 1000000] [--no-cryptography]
    .venv/bin/python scripts/bench_ca.py ocsp [--certs 10000] [--requests 20000] [--concurrency 8]
    .venv/bin/python scripts/bench_ca.py all

Prints Markdown. The OCSP load generators are ApacheBench (`ab`, one request file, new connection per
request) when installed, and a multi-process Python client (random serials, new connection per request).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import http.client
import multiprocessing
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from asn1crypto import core
from asn1crypto import ocsp as aocsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.pki.ca.crl import encode_entries
from neweid.pki.ca.directory import CaDirectory
from neweid.pki.ca.profiles import CertificateUsage, KeyAlgorithm
from neweid.pki.ca.registry import CertificateRecord, CertificateStatus, RevocationReason
from neweid.pki.ca.validity import CardValidity
from neweid.pki.keystore import FileKeyStore

PASS = b"bench only"
NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
CARD = CardValidity(NOW.date(), None)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ssl = subprocess.run(["openssl", "version"], capture_output=True, text=True, check=False).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {ssl}, "
        f"{platform.system()} {platform.release()}"
    )


def fill(ca: CaDirectory, count: int, listed_share: float, rng: random.Random) -> list[int]:
    serials: list[int] = []

    def records():  # type: ignore[no-untyped-def]
        for i in range(count):
            serial = rng.getrandbits(126) | (1 << 126)
            serials.append(serial)
            listed = rng.random() < listed_share
            status = (
                (CertificateStatus.SUSPENDED if i % 5 == 0 else CertificateStatus.REVOKED)
                if listed
                else CertificateStatus.GOOD
            )
            reason = (
                None
                if not listed
                else (
                    RevocationReason.CERTIFICATE_HOLD
                    if status is CertificateStatus.SUSPENDED
                    else RevocationReason.KEY_COMPROMISE
                )
            )
            yield CertificateRecord(
                serial=serial,
                subject="CN=bench",
                card_serial=f"NE{i:010d}",
                usage=CertificateUsage.SIGN,
                key_algorithm=KeyAlgorithm.EC_P521,
                not_before=NOW,
                not_after=NOW + datetime.timedelta(days=1800),
                card=CARD,
                status=status,
                reason=reason,
                revoked_at=NOW - datetime.timedelta(seconds=i) if listed else None,
                der=b"-",
            )

    ca.registry.add_many(records())
    return serials


def bench_crl(entries: int, with_cryptography: bool) -> str:
    out = [f"## CRL with {entries:,} entries\n"]
    with tempfile.TemporaryDirectory() as tmp:
        ca = CaDirectory.init(Path(tmp) / "ca", FileKeyStore(Path(tmp) / "ca" / "keys", PASS), now=NOW)
        t = time.perf_counter()
        fill(ca, entries, 1.0, random.Random(1))
        out.append(f"- registry fill (setup, not part of the CRL): {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        rows = list(ca.registry.listed_entries())
        read = time.perf_counter() - t
        t = time.perf_counter()
        _, n = encode_entries(rows, int(NOW.timestamp()))
        encode = time.perf_counter() - t
        t = time.perf_counter()
        full = ca.crls.full(NOW)
        total = time.perf_counter() - t
        crl_size = len(full.der)
        t = time.perf_counter()
        ca.hierarchy.issuing_signer.sign(full.der)  # the signing step alone (same size)
        sign = time.perf_counter() - t
        out.append(
            f"- **neweid `CrlIssuer.full()` (read + encode + sign via key store): {total:.2f} s** "
            f"({full.entries:,} entries, {crl_size / 1e6:.1f} MB DER)"
        )
        out.append(
            f"  - of which: SQLite read {read:.2f} s, DER encoding {encode:.2f} s ({n:,} entries), "
            f"ECDSA P-521/SHA-512 signature {sign:.2f} s"
        )
        t = time.perf_counter()
        parsed = x509.load_der_x509_crl(full.der)
        ok = parsed.is_signature_valid(ca.hierarchy.issuing.public_key())
        out.append(
            f"- check: cryptography parses {len(parsed):,} entries, signature valid = {ok} "
            f"({time.perf_counter() - t:.2f} s)"
        )
        if with_cryptography:
            key = ec.generate_private_key(ec.SECP521R1())
            t = time.perf_counter()
            revoked = []
            for serial, at, reason in rows:
                entry = (
                    x509.RevokedCertificateBuilder()
                    .serial_number(int(serial, 16))
                    .revocation_date(datetime.datetime.fromtimestamp(at, datetime.UTC))
                )
                if reason:
                    entry = entry.add_extension(
                        x509.CRLReason(x509.ReasonFlags[RevocationReason(reason).name.lower()]),
                        critical=False,
                    )
                revoked.append(entry.build())
            # all entries at once: add_revoked_certificate() copies the list on every call (quadratic)
            builder = x509.CertificateRevocationListBuilder(
                issuer_name=ca.hierarchy.issuing.subject,
                last_update=NOW,
                next_update=NOW + datetime.timedelta(days=1),
                revoked_certificates=revoked,
            )
            built = time.perf_counter() - t
            t = time.perf_counter()
            crl = builder.sign(key, hashes.SHA512())
            signed = time.perf_counter() - t
            out.append(
                f"- pyca/cryptography `CertificateRevocationListBuilder` (same rows, software key): "
                f"**{built + signed:.2f} s** (building {built:.2f} s, sign {signed:.2f} s; "
                f"{len(crl.public_bytes(serialization.Encoding.DER)) / 1e6:.1f} MB)"
            )
        ca.close()
    return "\n".join(out) + "\n"


# -- OCSP ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, request: bytes) -> None:
    """Wait until the responder answers a real request (openssl -multi stops when a child sees a bare
    connect-and-close)."""
    for _ in range(200):
        try:
            check(port, request)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing answers on {port}")  # see the server's stderr file


def make_requests(
    issuer: x509.Certificate, serials: list[int], nonce: bool, rng: random.Random
) -> list[bytes]:
    cert = ax509.Certificate.load(issuer.public_bytes(serialization.Encoding.DER))
    name_hash = hashlib.sha1(cert["tbs_certificate"]["subject"].dump()).digest()
    key_hash = hashlib.sha1(
        cert["tbs_certificate"]["subject_public_key_info"]["public_key"].contents[1:]
    ).digest()
    out = []
    for serial in serials:
        tbs: dict[str, object] = {
            "request_list": [
                {
                    "req_cert": {
                        "hash_algorithm": {"algorithm": "sha1"},
                        "issuer_name_hash": name_hash,
                        "issuer_key_hash": key_hash,
                        "serial_number": serial,
                    }
                }
            ]
        }
        if nonce:
            tbs["request_extensions"] = [
                {"extn_id": "nonce", "extn_value": core.OctetString(rng.randbytes(16))}
            ]
        out.append(aocsp.OCSPRequest({"tbs_request": tbs}).dump())
    return out


def _worker(port: int, requests: list[bytes], seconds: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    done = failed = 0
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        body = requests[i % len(requests)]
        i += 1
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(
                "POST", "/", body, {"Content-Type": "application/ocsp-request", "Connection": "close"}
            )
            data = conn.getresponse().read()
            conn.close()
            if aocsp.OCSPResponse.load(data)["response_status"].native == "successful":
                done += 1
            else:
                failed += 1
        except OSError:
            failed += 1
    queue.put((done, failed))


def python_load(port: int, requests: list[bytes], seconds: float, processes: int) -> tuple[float, int]:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    workers = [
        multiprocessing.Process(target=_worker, args=(port, requests, seconds, queue))
        for _ in range(processes)
    ]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    return sum(r[0] for r in results) / seconds, sum(r[1] for r in results)


def ab_load(port: int, request: bytes, total: int, concurrency: int, tmp: Path) -> str:
    body = tmp / "req.der"
    body.write_bytes(request)
    result = subprocess.run(
        [
            "ab",
            "-q",
            "-n",
            str(total),
            "-c",
            str(concurrency),
            "-p",
            str(body),
            "-T",
            "application/ocsp-request",
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    rps = re.search(r"Requests per second:\s+([\d.]+)", result.stdout)
    failed = re.search(r"Failed requests:\s+(\d+)", result.stdout)
    detail = re.search(r"\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)", result.stdout)
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", result.stdout)
    if rps is None:
        return f"ab failed: {result.stderr.strip()[:200]}"
    return (
        f"{float(rps.group(1)):,.0f} req/s (failed {failed.group(1) if failed else '?'}"
        + (
            f" = length {detail.group(3)}, other {sum(int(detail.group(i)) for i in (1, 2, 4))}"
            if detail
            else ""
        )
        + (f", non-2xx {non2xx.group(1)}" if non2xx else "")
        + ")"
    )


def check(port: int, request: bytes) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/", request, {"Content-Type": "application/ocsp-request"})
    data = conn.getresponse().read()
    conn.close()
    response = aocsp.OCSPResponse.load(data)
    single = response.basic_ocsp_response["tbs_response_data"]["responses"][0]
    return f"{response['response_status'].native}/{single['cert_status'].name}"


def bench_ocsp(certs: int, total: int, concurrency: int, seconds: float) -> str:
    out = [f"## OCSP over HTTP on loopback ({certs:,} certificates, 10 % revoked or suspended)\n"]
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ca_dir = tmp / "ca"
        ca = CaDirectory.init(ca_dir, FileKeyStore(ca_dir / "keys", PASS), now=NOW)
        serials = fill(ca, certs, 0.1, rng)
        issuer = ca.hierarchy.issuing
        # openssl's inputs: index.txt, responder key (decrypted, test CA only), responder and CA certs
        lines = []
        for serial in serials:
            rec = ca.registry.status_of(serial)
            assert rec is not None
            exp = rec.not_after.strftime("%y%m%d%H%M%SZ")
            if rec.status is CertificateStatus.GOOD:
                lines.append(f"V\t{exp}\t\t{serial:X}\tunknown\t/CN=bench")
            else:
                when = (rec.revoked_at or NOW).strftime("%y%m%d%H%M%SZ")
                reason = "certificateHold" if rec.status is CertificateStatus.SUSPENDED else "keyCompromise"
                lines.append(f"R\t{exp}\t{when},{reason}\t{serial:X}\tunknown\t/CN=bench")
        (tmp / "index.txt").write_text("\n".join(lines) + "\n")
        (tmp / "index.txt.attr").write_text("unique_subject = no\n")
        key_pem = (ca_dir / "keys" / f"{ca.hierarchy.labels.ocsp}.key.pem").read_bytes()
        key = serialization.load_pem_private_key(key_pem, PASS)
        fd = os.open(tmp / "ocsp.key", os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(
            fd,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        os.close(fd)
        ca.close()

        plain = make_requests(issuer, rng.sample(serials, min(1000, certs)), False, rng)
        nonced = make_requests(issuer, rng.sample(serials, min(1000, certs)), True, rng)
        env = {**os.environ, "NEWEID_KEYSTORE_PASSPHRASE": PASS.decode()}
        ours_port, ssl_port, ssl_multi_port = free_port(), free_port(), free_port()
        ours_multi_port = free_port()

        def neweid(port: int, workers: int) -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from neweid.cli.ca import app; app()",
                    "ocsp-serve",
                    "--dir",
                    str(ca_dir),
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                ],
                env=env,
                stderr=(tmp / f"server-{workers}.err").open("wb"),
                start_new_session=True,
            )

        servers = [
            ("neweid `ca ocsp-serve` (asyncio, 1 process)", ours_port, neweid(ours_port, 1)),
            (
                f"neweid `ca ocsp-serve --workers {os.cpu_count()}`",
                ours_multi_port,
                neweid(ours_multi_port, os.cpu_count() or 1),
            ),
            (
                "`openssl ocsp -index` (1 process)",
                ssl_port,
                subprocess.Popen(
                    [
                        "openssl",
                        "ocsp",
                        "-index",
                        str(tmp / "index.txt"),
                        "-port",
                        str(ssl_port),
                        "-rsigner",
                        str(ca_dir / "ocsp-responder.pem"),
                        "-rkey",
                        str(tmp / "ocsp.key"),
                        "-CA",
                        str(ca_dir / "issuing-ca.pem"),
                        "-nmin",
                        "5",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=(tmp / "openssl.err").open("wb"),
                    start_new_session=True,
                ),
            ),
            (
                f"`openssl ocsp -index -multi {os.cpu_count()}`",
                ssl_multi_port,
                subprocess.Popen(
                    [
                        "openssl",
                        "ocsp",
                        "-index",
                        str(tmp / "index.txt"),
                        "-port",
                        str(ssl_multi_port),
                        "-rsigner",
                        str(ca_dir / "ocsp-responder.pem"),
                        "-rkey",
                        str(tmp / "ocsp.key"),
                        "-CA",
                        str(ca_dir / "issuing-ca.pem"),
                        "-nmin",
                        "5",
                        "-multi",
                        str(os.cpu_count()),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=(tmp / "openssl-multi.err").open("wb"),  # -multi makes its own process group
                ),
            ),
        ]
        try:
            for label, port, proc in servers:
                try:
                    wait_ready(port, plain[0])
                except RuntimeError:
                    errors = "".join(p.read_text() for p in tmp.glob("*.err"))
                    raise RuntimeError(f"{label} did not start ({proc.poll()}): {errors}") from None
            out.append(
                "| responder | sanity (good / revoked serial) | ab, no nonce, 1 serial | "
                "ab, nonce | Python client, no nonce, 1,000 serials | Python client, nonce |"
            )
            out.append("|---|---|---|---|---|---|")
            good_serial = next(s for s in serials if ca_status(ca_dir, s) == "good")
            good_req = make_requests(issuer, [good_serial], False, rng)[0]
            revoked_serial = next(s for s in serials if ca_status(ca_dir, s) != "good")
            revoked_req = make_requests(issuer, [revoked_serial], False, rng)[0]
            for label, port, _ in servers:
                sanity = f"{check(port, good_req)} / {check(port, revoked_req)}"
                ab_plain = ab_load(port, plain[0], total, concurrency, tmp) if shutil.which("ab") else "n/a"
                ab_nonce = (
                    ab_load(port, nonced[0], total // 4, concurrency, tmp) if shutil.which("ab") else "n/a"
                )
                py_plain, f1 = python_load(port, plain, seconds, concurrency)
                py_nonce, f2 = python_load(port, nonced, seconds, concurrency)
                out.append(
                    f"| {label} | {sanity} | {ab_plain} | {ab_nonce} | {py_plain:,.0f} req/s "
                    f"(failed {f1}) | {py_nonce:,.0f} req/s (failed {f2}) |"
                )
        finally:
            for _, _, proc in servers:  # each server runs in its own session: stop its whole group
                if proc.poll() is not None:
                    continue
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
    out.append(
        f"\nab: `-n {total} -c {concurrency}` (nonce column: `-n {total // 4}`; ab repeats one request "
        "body, so its nonce is the same each time but is still echoed and signed per request; ab counts a "
        "response whose length differs from the first as failed: ECDSA signatures vary in length, so "
        "'length' failures are complete, valid responses); "
        f"Python client: {concurrency} processes x {seconds:.0f} s, new TCP connection per request."
    )
    return "\n".join(out) + "\n"


def ca_status(ca_dir: Path, serial: int) -> str:
    import sqlite3

    with sqlite3.connect(ca_dir / "registry.sqlite3") as conn:
        return str(
            conn.execute(
                "SELECT status FROM certificates WHERE serial = ?", (format(serial, "x"),)
            ).fetchone()[0]
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["crl", "ocsp", "all"])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--no-cryptography", action="store_true")
    parser.add_argument("--certs", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(
        f"# neweid citizen CA benchmarks\n\nMachine: {machine()}\n\n"
        f"Command: `{' '.join(['python', *sys.argv])}` ({NOW.isoformat()})\n"
    )
    if args.what in ("crl", "all"):
        print(bench_crl(args.entries, not args.no_cryptography))
    if args.what in ("ocsp", "all"):
        print(bench_ocsp(args.certs, args.requests, args.concurrency, args.seconds))


if __name__ == "__main__":
    main()
