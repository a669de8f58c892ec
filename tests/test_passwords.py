"""`passport_py.passwords`: Argon2id hashing, migrated formats, caps and unknown-user timing.

The migrated hashes are made in each test by the libraries that make them in the wild:
Django's `make_password`, Werkzeug's `generate_password_hash` and `bcrypt.hashpw`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import argon2
import bcrypt
import django_project  # noqa: F401 - configures Django's settings for make_password
import pytest
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from werkzeug.security import generate_password_hash

from passport_py.errors import ConfigurationError
from passport_py.passwords import (
    MAX_PASSWORD_BYTES,
    InvalidHashError,
    PasswordHasher,
    PasswordTooLongError,
    default_hasher,
    hash_password,
    verify_and_update,
    verify_dummy,
    verify_password,
)

PASSWORD = "correct horse battery staple"
WRONG = "correct horse battery stapler"

DJANGO_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]


@pytest.fixture(autouse=True)
def django_hashers() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=DJANGO_HASHERS):
        yield


def django(algorithm: str) -> Callable[[str], str]:
    return lambda password: make_password(password, hasher=algorithm)


def werkzeug(method: str) -> Callable[[str], str]:
    return lambda password: generate_password_hash(password, method=method)


def bcrypt_with(prefix: bytes) -> Callable[[str], str]:
    return lambda password: bcrypt.hashpw(password.encode(), bcrypt.gensalt(10, prefix)).decode()


MIGRATED = {
    "django-pbkdf2_sha256": django("pbkdf2_sha256"),
    "django-pbkdf2_sha1": django("pbkdf2_sha1"),
    "django-argon2": django("argon2"),
    "django-bcrypt_sha256": django("bcrypt_sha256"),
    "django-bcrypt": django("bcrypt"),
    "django-scrypt": django("scrypt"),
    "werkzeug-scrypt": werkzeug("scrypt"),
    "werkzeug-pbkdf2": werkzeug("pbkdf2"),
    "werkzeug-pbkdf2-sha512": werkzeug("pbkdf2:sha512:600000"),
    "bcrypt-2b": bcrypt_with(b"2b"),
    "bcrypt-2a": bcrypt_with(b"2a"),
}


def test_hash_is_argon2id_with_rfc9106_second_recommended_parameters() -> None:
    params = argon2.extract_parameters(hash_password(PASSWORD))
    assert params.type is argon2.Type.ID
    assert (params.time_cost, params.memory_cost, params.parallelism) == (3, 65536, 4)
    assert (params.salt_len, params.hash_len) == (16, 32)


def test_hash_verifies_its_password_and_no_other() -> None:
    stored = hash_password(PASSWORD)
    assert verify_password(PASSWORD, stored) is True
    assert verify_password(WRONG, stored) is False


def test_two_hashes_of_one_password_differ_by_salt() -> None:
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_a_current_hash_needs_no_update() -> None:
    assert verify_and_update(PASSWORD, hash_password(PASSWORD)) == (True, None)


def test_argon2id_with_weaker_parameters_is_upgraded() -> None:
    owasp_minimum = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    ok, new_hash = verify_and_update(PASSWORD, owasp_minimum.hash(PASSWORD))
    assert ok and new_hash is not None
    assert argon2.extract_parameters(new_hash).memory_cost == 65536
    assert verify_password(PASSWORD, new_hash)


def test_argon2id_with_stronger_parameters_is_kept() -> None:
    stronger = PasswordHasher(time_cost=4, memory_cost=131072)
    assert verify_and_update(PASSWORD, stronger.hash(PASSWORD)) == (True, None)


def test_argon2i_is_upgraded_to_argon2id() -> None:
    stored = argon2.PasswordHasher(type=argon2.Type.I).hash(PASSWORD)
    ok, new_hash = verify_and_update(PASSWORD, stored)
    assert ok and new_hash is not None and new_hash.startswith("$argon2id$")


@pytest.mark.parametrize("make", MIGRATED.values(), ids=MIGRATED.keys())
def test_a_migrated_hash_verifies_and_is_upgraded_to_argon2id(
    make: Callable[[str], str],
) -> None:
    ok, new_hash = verify_and_update(PASSWORD, make(PASSWORD))
    assert ok and new_hash is not None and new_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_and_update(PASSWORD, new_hash) == (True, None)


@pytest.mark.parametrize("make", MIGRATED.values(), ids=MIGRATED.keys())
def test_a_migrated_hash_refuses_a_wrong_password_and_offers_no_new_hash(
    make: Callable[[str], str],
) -> None:
    assert verify_and_update(WRONG, make(PASSWORD)) == (False, None)


def test_bcrypt_2y_hashes_from_php_verify() -> None:
    stored = bcrypt_with(b"2b")(PASSWORD).replace("$2b$", "$2y$", 1)
    assert verify_password(PASSWORD, stored) and not verify_password(WRONG, stored)


def test_bcrypt_verification_keeps_the_bytes_after_a_nul() -> None:
    stored = bcrypt_with(b"2b")("before\x00after")
    assert verify_password("before\x00after", stored)
    assert not verify_password("before\x00other", stored)
    assert not verify_password("before", stored)


def test_bcrypt_refuses_a_password_over_72_bytes_rather_than_truncating_it() -> None:
    long_password = "x" * 72 + "tail"
    # What a truncating library stored for the long password: bcrypt of its first 72 bytes.
    stored = bcrypt_with(b"2b")(long_password[:72])
    assert verify_password(long_password, stored) is False
    assert verify_password(long_password[:72], stored) is True


def test_django_bcrypt_sha256_takes_passwords_over_72_bytes_whole() -> None:
    long_password = "y" * 100
    stored = django("bcrypt_sha256")(long_password)
    assert verify_password(long_password, stored)
    assert not verify_password("y" * 99 + "z", stored)


def test_a_password_of_4096_bytes_is_hashed() -> None:
    password = "p" * MAX_PASSWORD_BYTES
    assert verify_password(password, hash_password(password))


def test_hashing_refuses_a_password_over_4096_utf8_bytes() -> None:
    password = "€" * (MAX_PASSWORD_BYTES // 3 + 1)  # 1366 characters, 4098 bytes
    with pytest.raises(PasswordTooLongError, match="at most 4096 bytes"):
        hash_password(password)


def test_verifying_a_password_over_the_cap_is_false() -> None:
    stored = hash_password(PASSWORD)
    assert verify_and_update(PASSWORD + "p" * MAX_PASSWORD_BYTES, stored) == (False, None)


def test_a_password_must_be_text() -> None:
    with pytest.raises(TypeError, match="password must be str"):
        hash_password(b"bytes")  # type: ignore[arg-type]


MALFORMED = {
    "empty": "",
    "unknown-prefix": "md5$salt$5f4dcc3b5aa765d61d8327deb882cf99",
    "plain-text": "hunter2",
    "django-pbkdf2-truncated": "pbkdf2_sha256$1000000$salt",
    "django-pbkdf2-bad-base64": "pbkdf2_sha256$1000$salt$not*base64!",
    "django-pbkdf2-huge-iterations": "pbkdf2_sha256$999999999$salt$AAAA",
    "django-pbkdf2-iterations-not-a-number": "pbkdf2_sha256$many$salt$AAAA",
    "werkzeug-pbkdf2-huge-iterations": "pbkdf2:sha256:20000000$salt$00ff",
    "werkzeug-pbkdf2-no-iterations": "pbkdf2:sha256$salt$00ff",
    "werkzeug-pbkdf2-unknown-digest": "pbkdf2:md5:1000$salt$00ff",
    "werkzeug-pbkdf2-not-hex": "pbkdf2:sha256:1000$salt$zz",
    "werkzeug-scrypt-huge-memory": "scrypt:1048576:64:1$salt$00ff",
    "werkzeug-scrypt-n-not-power-of-two": "scrypt:1000:8:1$salt$00ff",
    "werkzeug-scrypt-truncated": "scrypt:32768:8:1$salt",
    "django-scrypt-truncated": "scrypt$16384$salt$8$5",
    "argon2-huge-memory": "$argon2id$v=19$m=4194304,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "argon2-truncated": "$argon2id$v=19$m=65536,t=3",
    "django-argon2-truncated": "argon2$argon2id$v=19$m=102400",
    "bcrypt-huge-rounds": "$2b$31$" + "a" * 53,
    "bcrypt-truncated": "$2b$12$abc",
    "bcrypt-2x": "$2x$10$" + "a" * 53,
}


@pytest.mark.parametrize("stored", MALFORMED.values(), ids=MALFORMED.keys())
def test_an_unreadable_stored_hash_raises_invalid_hash_error(stored: str) -> None:
    with pytest.raises(InvalidHashError, match="reset this user's password"):
        verify_password(PASSWORD, stored)


def test_invalid_hash_error_is_a_value_error_that_does_not_repeat_the_hash() -> None:
    stored = "pbkdf2_sha256$999999999$secret-salt$AAAA"
    with pytest.raises(ValueError, match="iterations 999999999 is outside") as caught:
        verify_password(PASSWORD, stored)
    assert "secret-salt" not in str(caught.value)


def test_an_unknown_format_error_lists_the_formats_read() -> None:
    with pytest.raises(InvalidHashError, match=r"Werkzeug \(scrypt:, pbkdf2:\)"):
        verify_password(PASSWORD, "{SSHA}abcdef")


def test_no_stored_hash_is_a_dummy_verify_that_is_false() -> None:
    assert verify_password(PASSWORD, None) is False
    assert verify_and_update(PASSWORD, None) == (False, None)
    assert verify_dummy(PASSWORD) is False


def test_hasher_parameters_out_of_range_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="memory_cost"):
        PasswordHasher(memory_cost=4 * 1024 * 1024)


def _seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def test_an_unknown_user_costs_the_same_time_as_a_wrong_password() -> None:
    stored = default_hasher.hash(PASSWORD)
    default_hasher.verify_dummy(WRONG)  # the dummy hash is made once, on first use
    known: list[float] = []
    unknown: list[float] = []
    for _ in range(15):  # interleaved, so a change in machine load hits both alike
        known.append(_seconds(lambda: default_hasher.verify(WRONG, stored)))
        unknown.append(_seconds(lambda: default_hasher.verify(WRONG, None)))
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    assert abs(known_median - unknown_median) <= 0.25 * max(known_median, unknown_median)


def test_without_the_extra_the_import_error_names_the_extra_to_install() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'pwdlib' or name.startswith('pwdlib.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "try:\n"
        "    import passport_py.passwords\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert 'pip install "passport-py[passwords]"' in result.stdout, result.stderr
