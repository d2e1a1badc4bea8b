"""Secrets as the device keeps them: SHA-256 digests, compared in constant time.

    from camdot.secret import digest, equal
    key = digest(token)              # what is kept instead of the token
    equal(typed, token)              # True/False, in a time that says nothing about either
"""
import hashlib

DIGEST_SIZE = 32    # bytes of a SHA-256 digest


def digest(value):
    """SHA-256 of a str/bytes."""
    if isinstance(value, str):
        value = value.encode()
    return hashlib.sha256(value).digest()


def equal(a, b):
    """Constant-time comparison of two secrets (str or bytes).

    Both sides are hashed first, so the time depends neither on where they differ nor on their
    lengths; the XOR-accumulate has no early exit. Same code on both runtimes.
    """
    return same_digest(digest(a), digest(b))


def same_digest(a, b):
    """Compare two digests (SHA-256, DIGEST_SIZE bytes) without an early exit."""
    acc = 0
    for i in range(DIGEST_SIZE):
        acc |= a[i] ^ b[i]
    return acc == 0
