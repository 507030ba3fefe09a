#!/usr/bin/env python3
"""Build the weak public keys test-validate-key expects validate-key to refuse.

Usage: make-weak-keys.py DIR   (DIR holds ec-p256.pem from make-keys.sh)

No honest key generator makes these keys, so they are built here from
their primes, with nothing but the standard library: a Miller-Rabin test,
a few lines of DER and base64.  Every key is checked after it is built
(the property it must have, and openssl reading it back when openssl is
there), so a key that would not exercise its rule is never written.
"""

import base64
import math
import os
import random
import shutil
import subprocess
import sys

rng = random.SystemRandom()

# ---- primes -----------------------------------------------------------------


def primes_upto(n):
    sieve = bytearray([1]) * (n + 1)
    sieve[0:2] = b"\0\0"
    for i in range(2, math.isqrt(n) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(sieve[i * i::i]))
    return [i for i in range(n + 1) if sieve[i]]


SMALL_PRIMES = primes_upto(2000)


def is_probable_prime(n, rounds=32):
    if n < 2:
        return False
    for p in SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def next_prime(n):
    n |= 1
    while not is_probable_prime(n):
        n += 2
    return n


def random_prime(bits):
    """A prime of exactly 'bits' bits whose top two bits are set, so that
    the product of two such primes has exactly 2*bits bits."""
    while True:
        p = next_prime(rng.getrandbits(bits) | (3 << (bits - 2)))
        if p.bit_length() == bits:
            return p


# ---- DER and PEM ------------------------------------------------------------


def der(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    else:
        ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(ln)]) + ln
    return bytes([tag]) + head + body


def der_int(x):
    # One more byte than the magnitude needs when its top bit is set.
    return der(0x02, x.to_bytes(x.bit_length() // 8 + 1, "big"))


RSA_ALG = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) +
              der(0x05, b""))


def rsa_spki(n, e):
    key = der(0x30, der_int(n) + der_int(e))
    return der(0x30, RSA_ALG + der(0x03, b"\0" + key))


def pem_write(path, der_bytes):
    b64 = base64.b64encode(der_bytes).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    with open(path, "w") as f:
        f.write("-----BEGIN PUBLIC KEY-----\n")
        f.write("\n".join(lines) + "\n")
        f.write("-----END PUBLIC KEY-----\n")


def pem_read(path):
    with open(path) as f:
        body = "".join(l.strip() for l in f if not l.startswith("-----"))
    return base64.b64decode(body)


def openssl_check(path, n=None):
    """Have openssl read the key back; for RSA compare the modulus."""
    if not shutil.which("openssl"):
        return
    out = subprocess.run(["openssl", "pkey", "-pubin", "-in", path,
                          "-noout", "-text"], check=True,
                         capture_output=True, text=True).stdout
    if n is not None:
        hexdump = out.split("Modulus:")[1].split("Exponent")[0]
        got = int("".join(c for c in hexdump if c in "0123456789abcdef"),
                  16)
        assert got == n, path


def write_rsa(d, name, n, e=65537, check=None):
    assert check is None or check(n), name
    path = os.path.join(d, name + ".pem")
    pem_write(path, rsa_spki(n, e))
    openssl_check(path, n)
    print("%s: RSA %d bits" % (name, n.bit_length()))


# ---- the weaknesses, as validate-key sees them -------------------------------


def fermat_round(n, rounds):
    """The round at which Fermat's method factors n, or None."""
    a = math.isqrt(n)
    if a * a < n:
        a += 1
    for i in range(rounds):
        b2 = (a + i) ** 2 - n
        b = math.isqrt(b2)
        if b * b == b2:
            return i
    return None


G = 65537
ROCA_PRIMES = [p for p in SMALL_PRIMES if 3 <= p <= 167]


def subgroup(p):
    s, x = set(), 1
    while x not in s:
        s.add(x)
        x = x * G % p
    return s


def roca_per_prime(n):
    """The published detector's first test: n mod p lies in <65537> for
    every prime p from 3 to 167."""
    return all(n % p in subgroup(p) for p in ROCA_PRIMES)


def order_mod(p):
    return len(subgroup(p))


M167 = math.prod([2] + ROCA_PRIMES)
ORDER167 = math.lcm(*[order_mod(p) for p in ROCA_PRIMES])


def roca_dlog(n):
    """Its exact test: n mod M is a power of 65537, M = 2*3*...*167
    (Pohlig-Hellman over the prime powers of the generator's order)."""
    if pow(n, ORDER167, M167) != 1:
        return False
    rest = ORDER167
    for q in SMALL_PRIMES:
        qe = 1
        while rest % q == 0:
            rest //= q
            qe *= q
        if qe == 1:
            continue
        gq = pow(G, ORDER167 // qe, M167)
        hq = pow(n, ORDER167 // qe, M167)
        if all(pow(gq, i, M167) != hq for i in range(qe)):
            return False
    assert rest == 1
    return True


def infineon_prime(bits, nprimes):
    """p = k*M + (65537^a mod M), M the product of the first nprimes
    primes: the structure of the primes of the Infineon RSA library
    (CVE-2017-15361).  For 2048-bit keys the library used 126 primes."""
    m = math.prod(SMALL_PRIMES[:nprimes])
    order = math.lcm(*[order_mod(p) for p in SMALL_PRIMES[1:nprimes]])
    lo = (3 << (bits - 2)) // m + 1
    hi = ((1 << bits) - 1) // m
    while True:
        p = rng.randrange(lo, hi) * m + pow(G, rng.randrange(order), m)
        if p.bit_length() == bits and is_probable_prime(p):
            return p


def per_prime_only_prime(bits):
    """A prime whose residue mod each p in 3..167 is some power of 65537,
    each power chosen on its own: it passes the per-prime test, but its
    residue mod M is almost never one single power of 65537."""
    r, m = 1, 2
    for p in ROCA_PRIMES:
        c = pow(G, rng.randrange(order_mod(p)), p)
        # Chinese remainder: x = r mod m, x = c mod p.
        r += m * ((c - r) * pow(m, -1, p) % p)
        m *= p
    lo = (3 << (bits - 2)) // m + 1
    hi = ((1 << bits) - 1) // m
    while True:
        q = rng.randrange(lo, hi) * m + r
        if q.bit_length() == bits and is_probable_prime(q):
            return q


# ---- P-256 -------------------------------------------------------------------

P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b


def p256_on_curve(x, y):
    p = P256_P
    return x < p and y < p and \
        (y * y - (x * x * x - 3 * x + P256_B)) % p == 0


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__)

    # Primes a few bits apart: Fermat's method factors n at once.
    p = random_prime(1024)
    q = next_prime(p + rng.getrandbits(64))
    write_rsa(d, "rsa-fermat-close", p * q,
              check=lambda n: fermat_round(n, 1) == 0)

    # Primes further apart: Fermat's method needs some dozens of rounds
    # (about d^2 / 8 sqrt(n) for q - p = d), more than 10, fewer than 100,
    # so fermat_rounds decides.
    while True:
        p = random_prime(1024)
        q = next_prime(p + math.isqrt(8 * 50 * p))
        i = fermat_round(p * q, 1000)
        if i is not None and 10 < i < 99:
            break
    write_rsa(d, "rsa-fermat-far", p * q,
              check=lambda n: fermat_round(n, 10) is None and
              fermat_round(n, 100) is not None)
    print("  factored at Fermat round %d" % i)

    # A 2048-bit modulus with a small prime factor f: 743 and 751 are
    # refused (751 is the largest prime tried), 757 is past the bound.
    for f in (743, 751, 757):
        lo = ((1 << 2047) + f - 1) // f
        hi = ((1 << 2048) - 1) // f
        while True:
            big = next_prime(rng.randrange(lo, hi))
            if (f * big).bit_length() == 2048:
                break
        write_rsa(d, "rsa-factor-%d" % f, f * big)

    # ROCA: both primes of the Infineon form, with the primorial the
    # library used for each key size (39 primes up to 960 bits, 126 from
    # 1984 to 3936, 225 above).  Several keys, so that the residues mod
    # the small primes vary.
    for bits, nprimes, name in ((512, 39, "rsa-roca-512"),
                                (2048, 126, "rsa-roca"),
                                (3072, 126, "rsa-roca-3072"),
                                (4096, 225, "rsa-roca-4096")):
        while True:
            n = infineon_prime(bits // 2, nprimes) * \
                infineon_prime(bits // 2, nprimes)
            if n.bit_length() == bits:
                break
        write_rsa(d, name, n,
                  check=lambda n: roca_per_prime(n) and roca_dlog(n))

    # Passes the per-prime test only: not a ROCA key.
    while True:
        n = infineon_prime(1024, 126) * per_prime_only_prime(1024)
        if n.bit_length() == 2048 and not roca_dlog(n):
            break
    write_rsa(d, "rsa-roca-fake", n, check=roca_per_prime)

    # An otherwise sound key with an 80-bit public exponent.
    while True:
        p, q = random_prime(1024), random_prime(1024)
        e = rng.getrandbits(80) | (1 << 79) | 1
        if math.gcd(e, (p - 1) * (q - 1)) == 1:
            break
    path = os.path.join(d, "rsa-2048-e80bit.pem")
    pem_write(path, rsa_spki(p * q, e))
    openssl_check(path, p * q)
    print("rsa-2048-e80bit: RSA 2048 bits, e of 80 bits")

    # P-256 points: the DER of a SubjectPublicKeyInfo for a named curve
    # ends with the uncompressed point 04 || x || y.
    spki = pem_read(os.path.join(d, "ec-p256.pem"))
    head, point = spki[:-65], spki[-65:]
    assert point[0] == 4
    x = int.from_bytes(point[1:33], "big")
    y = int.from_bytes(point[33:], "big")
    assert p256_on_curve(x, y)

    # y moved by one: off the curve.
    y1 = (y + 1) % P256_P
    assert not p256_on_curve(x, y1)
    pem_write(os.path.join(d, "ec-p256-offcurve.pem"),
              head + b"\4" + x.to_bytes(32, "big") + y1.to_bytes(32, "big"))
    print("ec-p256-offcurve: P-256, y + 1")

    # A point that satisfies the equation mod p but whose x is written
    # unreduced (x + p, which fits in 32 bytes only for x < 2^256 - p).
    x0 = 0
    while True:
        x0 += 1
        rhs = (x0 ** 3 - 3 * x0 + P256_B) % P256_P
        y0 = pow(rhs, (P256_P + 1) // 4, P256_P)  # p = 3 mod 4
        if y0 * y0 % P256_P == rhs:
            break
    assert p256_on_curve(x0, y0) and x0 + P256_P < 2**256
    pem_write(os.path.join(d, "ec-p256-xbig.pem"),
              head + b"\4" + (x0 + P256_P).to_bytes(32, "big") +
              y0.to_bytes(32, "big"))
    print("ec-p256-xbig: P-256, x = %d + p" % x0)


if __name__ == "__main__":
    main()
