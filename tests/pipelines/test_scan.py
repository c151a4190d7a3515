"""`digitaldock scan`: a real clamd with the EICAR signature, magic-byte types, quarantine."""

from __future__ import annotations

import io
import socket
import threading
import zipfile

import pytest

from pipelines.scan import IMAGE_TYPES, PRODUCT_TYPES, Clamd, ScanError, sniff, type_problem

from ..servers import free_port

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Eicar-Test-Signature.UNOFFICIAL"


def zipped(name: str, data: bytes, first: tuple[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if first:
            z.writestr(zipfile.ZipInfo(first[0]), first[1])  # stored, as EPUB requires
        z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("head, kind", [
    (b"%PDF-1.7\n", "pdf"),
    (zipped("a.txt", b"hi"), "zip"),
    (zipped("OEBPS/a.xhtml", b"<html/>", ("mimetype", b"application/epub+zip")), "epub"),
    (b"\x89PNG\r\n\x1a\n....", "png"),
    (b"\xff\xd8\xff\xe0..JFIF", "jpeg"),
    (b"GIF89a....", "gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"),
    (b"\x00\x01\x00\x00\x00\x0e", "ttf"),
    (b"OTTO\x00\x0e", "otf"),
    (b"wOFF\x00\x01", "woff"),
    (b"wOF2\x00\x01", "woff2"),
    (b"fLaC\x00", "flac"),
    (b"OggS\x00\x02", "ogg"),
    (b"ID3\x04\x00", "mp3"),
    (b"\xff\xfb\x90\x00", "mp3"),
    (b"\x00\x00\x00\x18ftypmp42", "mp4"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "matroska"),
    (b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>", "svg"),
    (b"<!DOCTYPE html><html>", "html"),
    (b"MZ\x90\x00", "exe"),
    (b"\x7fELF\x02", "elf"),
    (b"#!/bin/sh\n", "script"),
    (b"plain text", None),
    (b"", None),
    # cases a general signature table (puremagic 1.30) names otherwise: see sniff's docstring
    (zipped("[Content_Types].xml", b"<Types/>"), "zip"),
    (b"true\x00\x0e\x00\x80", "ttf"),
    (b"ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00", "mp3"),
    (b"\xff\xfa\x90\x00", "mp3"),  # MPEG-1 layer III with CRC
    (b"\xff\xf3\x48\xc4", "mp3"),  # MPEG-2 layer III
    (b"\xff\xe3\x18\xc4", "mp3"),  # MPEG-2.5 layer III
    (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "mp4"),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
    (b"<!-- Inkscape -->\n<svg/>", "svg"),
    (b"MZ\x90\x00\x03\x00\x00\x00", "exe"),
    (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", "macho"),
])
def test_sniff_by_magic_bytes(head, kind):
    assert sniff(head[:4096]) == kind


SVG_REFUSED = "SVG is not accepted for images (an SVG can carry scripts); use PNG, JPEG, GIF or WebP"


@pytest.mark.parametrize("head, allowed, problem", [
    (b"%PDF-1.7", PRODUCT_TYPES, None),
    (b"%PDF-1.7", IMAGE_TYPES, "file type not allowed: PDF"),
    (b"MZ\x90\x00", PRODUCT_TYPES, "file type not allowed: a Windows executable"),
    (b"hello", PRODUCT_TYPES, "unrecognised file type (starts with 68656c6c6f)"),
    # issue #22: images are raster only, however harmless an SVG looks; a product file may
    # still be an SVG (downloaded as an attachment), unless it obviously holds script
    (b"<svg onload='alert(1)'/>", PRODUCT_TYPES, "SVG contains script"),
    (b"<svg><script>x</script></svg>", PRODUCT_TYPES, "SVG contains script"),
    (b"<svg><rect/></svg>", PRODUCT_TYPES, None),
    (b"<svg><rect/></svg>", IMAGE_TYPES, SVG_REFUSED),
    (b"<svg xmlns:s='http://www.w3.org/2000/svg'><s:script>x</s:script></svg>", IMAGE_TYPES, SVG_REFUSED),
    (b"<svg><a href='&#106;avascript:alert(1)'><rect/></a></svg>", IMAGE_TYPES, SVG_REFUSED),
    (b"<svg><foreignObject><iframe srcdoc='&lt;script&gt;x&lt;/script&gt;'/></foreignObject></svg>",
     IMAGE_TYPES, SVG_REFUSED),
])
def test_allowlist_per_kind(head, allowed, problem):
    assert type_problem(head, allowed) == problem


def add_product(tree, slug: str, data: bytes, name: str = "planner.pdf") -> dict:
    f = tree.add_file(data)
    tree.product(slug, tree.product_text(f).replace("name: planner.pdf", f"name: {name}"))
    return f


def test_clean_content_passes(tree, clamd):
    result = tree.invoke("scan", env={"CLAMD_SOCKET": clamd["CLAMD_SOCKET"]})
    assert result.exit_code == 0, result.output
    assert result.stdout == "scan OK: 4 files clean (virus and type)\n"


def test_clamd_over_tcp(tree, clamd):
    result = tree.invoke("scan", env={"CLAMD_HOST": "127.0.0.1", "CLAMD_PORT": clamd["port"]})
    assert result.stdout == "scan OK: 4 files clean (virus and type)\n"


@pytest.mark.parametrize("data, reason", [
    (EICAR, f"virus found: {SIGNATURE}"),
    (zipped("readme.txt", EICAR), f"virus found: {SIGNATURE}"),
    (b"MZ\x90\x00" + b"\0" * 100, "file type not allowed: a Windows executable"),
])
def test_refused_product_files_are_quarantined(tree, clamd, data, reason):
    f = add_product(tree, "bad-one", data, name="guide.pdf")
    result = tree.invoke("scan", env={"CLAMD_SOCKET": clamd["CLAMD_SOCKET"]})
    assert result.exit_code == 1
    assert result.stdout == (f"QUARANTINED {f['key']} (content/products/bad-one.md files[0] guide.pdf): "
                             f"{reason}; moved to quarantine/{f['key']}\n")
    assert result.stderr == "Error: 1 file refused (virus and type)\n"
    assert not (tree.storage / f["key"]).exists()
    assert (tree.storage / "quarantine" / f["key"]).read_bytes() == data
    # the product now fails validation: its file is gone, so it can never be sold
    assert f"files[0].key: {f['key']} is not in storage" in tree.invoke("validate").stdout


def test_refused_images_leave_the_content_folder(tree, clamd):
    tree.image("gallery/evil.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
    tree.image("eicar.png", EICAR)
    result = tree.invoke("scan", env={"CLAMD_SOCKET": clamd["CLAMD_SOCKET"]})
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"QUARANTINED content/images/eicar.png: virus found: {SIGNATURE}; moved to quarantine/images/eicar.png",
        f"QUARANTINED content/images/gallery/evil.svg: {SVG_REFUSED}; "
        "moved to quarantine/images/gallery/evil.svg",
    ]
    assert result.stderr == "Error: 2 files refused (virus and type)\n"
    assert not (tree.root / "images" / "eicar.png").exists()
    assert (tree.storage / "quarantine" / "images" / "eicar.png").read_bytes() == EICAR


def test_missing_product_file_fails_the_scan(tree, clamd):
    (tree.storage / tree.pdf["key"]).unlink()
    result = tree.invoke("scan", env={"CLAMD_SOCKET": clamd["CLAMD_SOCKET"]})
    assert result.exit_code == 1
    assert result.stdout == (f"MISSING {tree.pdf['key']} (content/products/budget-planner.md files[0] "
                             "planner.pdf): not in storage (content/storage)\n")


def test_scan_in_s3_quarantines_in_the_bucket(tree, clamd, moto_endpoint, bucket, s3):
    f = add_product(tree, "bad-one", zipped("x.txt", EICAR))
    for p in tree.storage.rglob("*"):
        if p.is_file():
            s3.upload_file(str(p), bucket, "files/" + p.relative_to(tree.storage).as_posix())
    env = {"CLAMD_SOCKET": clamd["CLAMD_SOCKET"], "STORAGE_BACKEND": "s3", "S3_BUCKET": bucket,
           "S3_ENDPOINT_URL": moto_endpoint, "S3_PREFIX": "files"}
    result = tree.invoke("scan", env=env)
    assert result.exit_code == 1
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert f"files/quarantine/{f['key']}" in keys and f"files/{f['key']}" not in keys
    assert f"files/{tree.pdf['key']}" in keys


def test_without_clamd_the_scan_refuses_to_pass(tree):
    result = tree.invoke("scan")
    assert result.exit_code == 1
    assert result.stderr == ("Error: clamd is not configured: set CLAMD_SOCKET, or CLAMD_HOST and "
                             "CLAMD_PORT (or pass --skip-virus-scan for a local type check only)\n")


def test_skip_virus_scan_warns_loudly_and_checks_types(tree):
    f = add_product(tree, "eicar-one", EICAR)
    result = tree.invoke("scan", "--skip-virus-scan")
    assert result.stderr.startswith("WARNING: --skip-virus-scan: files are NOT checked for viruses")
    assert result.exit_code == 1
    assert f"QUARANTINED {f['key']}" in result.stdout
    assert "unrecognised file type (starts with 58354f2150254041)" in result.stdout
    (tree.root / "products" / "eicar-one.md").unlink()
    result = tree.invoke("scan", "--skip-virus-scan")
    assert result.exit_code == 0
    assert result.stdout == "scan OK: 4 files clean (type only, NO virus scan)\n"


def test_clamd_down_is_one_line(tree, tmp_path):
    result = tree.invoke("scan", env={"CLAMD_SOCKET": str(tmp_path / "gone.sock")})
    assert result.exit_code == 1
    assert result.stderr == (f"Error: cannot reach clamd at unix:{tmp_path / 'gone.sock'}: No such file or "
                             "directory; is clamd running? (CLAMD_SOCKET / CLAMD_HOST / CLAMD_PORT)\n")
    port = free_port()
    result = tree.invoke("scan", env={"CLAMD_HOST": "127.0.0.1", "CLAMD_PORT": str(port)})
    assert result.stderr.startswith(f"Error: cannot reach clamd at 127.0.0.1:{port}: Connection refused;")
    result = tree.invoke("scan", env={"CLAMD_HOST": "127.0.0.1", "CLAMD_PORT": "x"})
    assert result.stderr == "Error: CLAMD_PORT='x' is not a port number\n"


@pytest.fixture
def fake_clamd(tmp_path):
    """A unix socket that answers every command with a canned reply, like a broken clamd."""
    path = str(tmp_path / "fake.sock")
    replies: list[bytes] = []
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(replies.pop(0) if replies else b"")

    threading.Thread(target=serve, daemon=True).start()
    yield path, replies
    server.close()


@pytest.mark.parametrize("reply, message", [
    (b"INSTREAM size limit exceeded. ERROR\0",
     "could not scan: INSTREAM size limit exceeded. ERROR; raise StreamMaxLength in clamd.conf"),
    (b"", "could not scan: no answer"),
])
def test_clamd_errors_are_one_line(fake_clamd, reply, message):
    path, replies = fake_clamd
    replies += [b"PONG\0", reply]
    clamd = Clamd(socket_path=path)
    clamd.ping()
    with pytest.raises(ScanError) as exc:
        clamd.instream([b"x" * 10])
    assert str(exc.value) == f"clamd at unix:{path} {message}"


def test_clamd_that_does_not_pong(fake_clamd):
    path, replies = fake_clamd
    replies.append(b"UNKNOWN COMMAND\0")
    with pytest.raises(ScanError, match=r"^clamd at unix:.* answered 'UNKNOWN COMMAND' to PING$"):
        Clamd(socket_path=path).ping()
