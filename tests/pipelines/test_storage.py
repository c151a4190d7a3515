"""The storage interface behaves the same on local disk and on a real S3 endpoint (moto)."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from digitaldock.storage import LocalStorage, NotFound, S3Storage, StorageError, check_key, s3_client, storage_from_env

from ..servers import free_port


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = request.getfixturevalue("bucket")
    return S3Storage(bucket, endpoint, prefix="files")


def test_put_stat_read_hash_list_move_delete(storage):
    data = b"hello product " * 100_000  # 1.4 MB: several chunks
    assert storage.stat("sha256/ab/x") is None
    assert storage.put("sha256/ab/x", io.BytesIO(data)) == len(data)
    assert storage.stat("sha256/ab/x") == len(data)
    assert storage.sha256("sha256/ab/x") == hashlib.sha256(data).hexdigest()
    chunks = list(storage.iter_chunks("sha256/ab/x", 500_000))
    assert b"".join(chunks) == data and max(map(len, chunks)) <= 500_000
    with storage.open("sha256/ab/x") as f:
        assert f.read(5) == b"hello"
    storage.put("sha256/cd/y", io.BytesIO(b"y"))
    assert list(storage.list()) == ["sha256/ab/x", "sha256/cd/y"]
    assert list(storage.list("sha256/c")) == ["sha256/cd/y"]
    assert storage.quarantine("sha256/ab/x") == "quarantine/sha256/ab/x"
    assert storage.stat("sha256/ab/x") is None
    assert storage.stat("quarantine/sha256/ab/x") == len(data)
    storage.delete("sha256/cd/y")
    storage.delete("sha256/cd/y")  # deleting twice is fine
    assert list(storage.list()) == ["quarantine/sha256/ab/x"]


def test_missing_keys_raise_not_found(storage):
    with pytest.raises(NotFound, match="nope not found in"):
        storage.open("nope")
    with pytest.raises(NotFound):
        storage.sha256("nope")
    with pytest.raises(NotFound):
        storage.move("nope", "quarantine/nope")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a\\b", "./a"])
def test_keys_never_leave_the_root(storage, key):
    with pytest.raises(StorageError, match="not a valid storage key"):
        storage.stat(key)


def test_replacing_a_key_keeps_no_temp_files(tmp_path):
    s = LocalStorage(tmp_path)
    s.put("a/b", io.BytesIO(b"one"))
    s.put("a/b", io.BytesIO(b"two"))
    assert list(s.list()) == ["a/b"] and (tmp_path / "a" / "b").read_bytes() == b"two"
    assert list(LocalStorage(tmp_path / "missing").list()) == []


def test_local_write_failure_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError, match=r"^cannot write a/b in .*: Not a directory$"):
        LocalStorage(tmp_path / "file").put("a/b", io.BytesIO(b"x"))


def test_local_unreadable_is_one_line(tmp_path, monkeypatch):
    s = LocalStorage(tmp_path)
    s.put("k", io.BytesIO(b"x"))
    (tmp_path / "k").chmod(0)
    real_open = os.open

    def refusing_open(path, *args, **kwargs):  # root ignores chmod: refuse as the kernel would
        if os.fspath(path).endswith("/k"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)  # LocalStorage opens with os.open (O_NOFOLLOW)
    with pytest.raises(StorageError, match=r"^cannot read k in .*: Permission denied$"):
        s.open("k")


def test_factory_defaults_to_local(tmp_path):
    s = storage_from_env({})
    assert isinstance(s, LocalStorage) and s.describe() == "content/storage"
    assert storage_from_env({"STORAGE_DIR": str(tmp_path)}).root == tmp_path


def test_factory_builds_s3(moto_endpoint, bucket, aws_env):
    s = storage_from_env({**aws_env, "STORAGE_BACKEND": "S3", "S3_BUCKET": bucket,
                          "S3_ENDPOINT_URL": moto_endpoint, "S3_PREFIX": "/p/"})
    assert isinstance(s, S3Storage) and s.describe() == f"s3://{bucket}/p/"
    s.put("k", io.BytesIO(b"data"))
    assert s3_client(moto_endpoint).get_object(Bucket=bucket, Key="p/k")["Body"].read() == b"data"


@pytest.mark.parametrize("env, message", [
    ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND='ftp' is not a storage backend; use 'local' or 's3'"),
    ({"STORAGE_BACKEND": "s3"}, "no S3 bucket: set S3_BUCKET"),
])
def test_factory_refuses_bad_settings(env, message):
    with pytest.raises(StorageError) as exc:
        storage_from_env(env)
    assert str(exc.value) == message


def test_missing_credentials(monkeypatch, tmp_path):
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StorageError) as exc:
        S3Storage("bucket", "http://127.0.0.1:9")
    assert str(exc.value) == "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"


def test_unreachable_endpoint(aws_env):
    port = free_port()  # a port nobody listens on
    s = S3Storage("bucket", f"http://127.0.0.1:{port}")
    with pytest.raises(StorageError) as exc:
        s.stat("k")
    assert str(exc.value) == (f"cannot reach the S3 endpoint http://127.0.0.1:{port} "
                              "(EndpointConnectionError); check S3_ENDPOINT_URL / --endpoint-url "
                              "and the network")


def test_missing_bucket_is_named(moto_endpoint, aws_env):
    s = S3Storage("no-such-bucket", moto_endpoint)
    with pytest.raises(StorageError) as exc:
        s.stat("k")
    assert str(exc.value) == (f"bucket 'no-such-bucket' does not exist at {moto_endpoint}; "
                              "create it or fix the bucket name")
    with pytest.raises(StorageError, match="bucket 'no-such-bucket' does not exist"):
        list(s.list())


def test_wrong_credentials_are_named(moto_endpoint, bucket):
    from botocore.exceptions import ClientError

    from digitaldock.storage import s3_errors

    denied = ClientError({"Error": {"Code": "InvalidAccessKeyId", "Message": "no"}}, "GetObject")
    with pytest.raises(StorageError) as exc, s3_errors("b", "http://r2"):
        raise denied
    assert str(exc.value) == ("access to bucket 'b' at http://r2 was denied (InvalidAccessKeyId); "
                              "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    other = ClientError({"Error": {"Code": "SlowDown", "Message": "later"}}, "PutObject")
    with pytest.raises(StorageError, match="^S3 error on bucket 'b' at AWS S3: SlowDown later$"), \
            s3_errors("b", None):
        raise other


def test_check_key_accepts_nested_keys():
    assert check_key("quarantine/sha256/ab/cd") == "quarantine/sha256/ab/cd"


def test_a_failed_local_write_leaves_nothing_behind(tmp_path):
    class Broken(io.RawIOBase):
        def readinto(self, b):
            raise OSError(5, "Input/output error")

    s = LocalStorage(tmp_path)
    with pytest.raises(StorageError, match=r"^cannot write k/x in .*: Input/output error$"):
        s.put("k/x", Broken())
    assert list(s.list()) == [] and list((tmp_path / "k").iterdir()) == []
