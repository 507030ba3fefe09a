/*
 * validate-key: refuse public keys that are too weak to certify.
 *
 * Sizes, exponent and curves are policy (the CA/Browser Forum Baseline
 * Requirements, 6.1.5 and 6.1.6); the weak-key tests find keys that look
 * fine but can be factored: a small prime factor, primes so close that
 * Fermat's method splits the modulus, and the structure of the Infineon
 * RSA library (ROCA, CVE-2017-15361).  EC points are checked against the
 * curve's equation.  The host has parsed the key already: this plugin
 * works on the numbers it hands over, with GMP.  See README.
 */
#include <mssl/plugin.h>

#include <errno.h>
#include <limits.h>
#include <gmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RSA_MIN_BITS 2048u
#define RSA_MAX_BITS 8192u
#define RSA_EXPONENT 65537u

/* Trial division bound: every prime up to and including it is tried. */
#define SMALL_FACTOR_MAX 751u

/*
 * The weak-key tests cost time growing with the modulus (up to 100000
 * Fermat rounds); past this size the key is refused as too large anyway,
 * so a huge modulus in a request cannot make them expensive.
 */
#define WEAK_TESTS_MAX_BITS 16384u

#define FERMAT_ROUNDS_DEFAULT 100ul
#define FERMAT_ROUNDS_MAX 100000ul

/*
 * ROCA.  The Infineon library built each prime as k * M + (65537^a mod M),
 * M a primorial, so the modulus is, modulo every prime r dividing M, a
 * power of 65537.  The published detector (crocs-muni/roca, detect.py)
 * looks at the primes 3 to 167, which divide M for every key size: first
 * whether n mod r lies in the subgroup 65537 generates mod r, for each r
 * (a random modulus passes with probability about 2^-28), then whether
 * n mod M167 (= 2 * 3 * ... * 167) is one single power of 65537 (about
 * 2^-155).  The first test alone would refuse one honest key in some
 * hundreds of millions, and anyone could craft a modulus passing it; the
 * second is exact.  Both are done here: the first is a cheap filter.
 */
#define ROCA_GENERATOR 65537u
#define ROCA_MAX_PRIME 167u
#define ROCA_N_PRIMES 38 /* the primes 3 .. 167 */
#define ROCA_MASK_WORDS ((ROCA_MAX_PRIME + 64) / 64)
#define ROCA_MAX_POWERS 16 /* prime powers of the generator's order */

struct roca_power {
	unsigned long qe; /* q^e exactly dividing the order */
	mpz_t exp; /* order / q^e */
	mpz_t g; /* 65537^(order / q^e) mod M */
};

/* A prime curve y^2 = x^3 - 3x + b (mod p), named and by OID. */
struct curve {
	const char *name;
	const char *oid;
	const char *p_hex;
	const char *b_hex;
};

static const struct curve curves[] = {
	{ "P-256", "1.2.840.10045.3.1.7",
	  "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
	  "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b" },
	{ "P-384", "1.3.132.0.34",
	  "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe"
	  "ffffffff0000000000000000ffffffff",
	  "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875a"
	  "c656398d8a2ed19d2a85c8edd3ec2aef" },
	{ "P-521", "1.3.132.0.35",
	  "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	  "ffff",
	  "0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef1"
	  "09e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b50"
	  "3f00" },
};

enum {
	CURVE_P256,
	CURVE_P384,
	CURVE_P521,
	N_CURVES
};

struct vk {
	const struct mssl_host *host;
	void *hctx;
	unsigned long fermat_rounds;
	bool allow_p521;

	unsigned short small_primes[SMALL_FACTOR_MAX];
	size_t n_small_primes;
	/*
	 * The small primes in runs whose product fits an unsigned long:
	 * n mod each product, one pass over n each, gives n mod every
	 * small prime (ROCA's primes among them) for a few word divisions.
	 */
	unsigned long packs[SMALL_FACTOR_MAX];
	unsigned short pack_end[SMALL_FACTOR_MAX]; /* last prime index + 1 */
	size_t n_packs;

	/* Bit r of square_mask[i] is set when r is a square mod
	 * square_mods[i]: Fermat rounds whose a^2 - n is no square
	 * modulo one of them are skipped without big-number work. */
	uint64_t square_mask[6][2];
	uint64_t square256[4]; /* the same mod 256 (44 of the 256) */

	unsigned short roca_primes[ROCA_N_PRIMES];
	/* Bit r of roca_mask[i] is set when r is a power of 65537 mod
	 * roca_primes[i]. */
	uint64_t roca_mask[ROCA_N_PRIMES][ROCA_MASK_WORDS];
	mpz_t roca_m; /* 2 * 3 * ... * 167 */
	mpz_t roca_order; /* order of 65537 mod roca_m */
	struct roca_power roca_pw[ROCA_MAX_POWERS];
	size_t n_roca_pw;

	mpz_t curve_p[N_CURVES];
	mpz_t curve_b[N_CURVES];
	bool mpz_ready;
};

/* ---------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------ */

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/*
 * A big-endian unsigned integer.  In 8-byte words when the length allows
 * (every usual modulus): GMP then byte-swaps whole limbs, where byte by
 * byte it costs ~40 instructions a byte (~10k for RSA-2048).
 */
static void import_be(mpz_t z, const uint8_t *p, size_t n)
{
	if (n && n % 8 == 0)
		mpz_import(z, n / 8, 1, 8, 1, 0, p);
	else if (n)
		mpz_import(z, n, 1, 1, 1, 0, p);
	else
		mpz_set_ui(z, 0);
}

static bool mask_test(const uint64_t *mask, unsigned long r)
{
	return (mask[r / 64] >> (r % 64)) & 1;
}

static void mask_set(uint64_t *mask, unsigned long r)
{
	mask[r / 64] |= (uint64_t)1 << (r % 64);
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* ---------------------------------------------------------------------
 * RSA
 * ------------------------------------------------------------------ */

/* n mod every small prime, res[i] for small_primes[i]. */
static void small_residues(const struct vk *vk, const mpz_t n,
			   unsigned short *res)
{
	size_t i, j = 0;

	for (i = 0; i < vk->n_packs; i++) {
		unsigned long w = mpz_fdiv_ui(n, vk->packs[i]);

		for (; j < vk->pack_end[i]; j++)
			res[j] = (unsigned short)(w % vk->small_primes[j]);
	}
}

/* The smallest prime up to SMALL_FACTOR_MAX dividing n (n > it), or 0. */
static unsigned long small_factor(const struct vk *vk, const mpz_t n,
				  const unsigned short *res)
{
	size_t i;

	for (i = 0; i < vk->n_small_primes; i++) {
		unsigned long p = vk->small_primes[i];

		if (res[i] == 0 && mpz_cmp_ui(n, p) > 0)
			return p;
	}
	return 0;
}

/* Moduli whose squares filter Fermat's rounds; product < 2^32. */
static const unsigned square_mods[6] = { 63, 65, 11, 17, 19, 23 };
#define SQUARE_M 334639305ul /* 63 * 65 * 11 * 17 * 19 * 23 */

/* r (mod 256) and q (mod SQUARE_M) can be the residues of a square. */
static bool maybe_square(const struct vk *vk, uint64_t r, uint64_t q)
{
	size_t i;

	if (!mask_test(vk->square256, (unsigned long)r))
		return false;
	for (i = 0; i < 6; i++) {
		uint64_t m = q % square_mods[i];

		if (!((vk->square_mask[i][m / 64] >> (m % 64)) & 1))
			return false;
	}
	return true;
}

/*
 * Fermat's method: n = a^2 - b^2 = (a - b)(a + b).  Starting from
 * a = ceil(sqrt(n)), a^2 - n is a square within a few rounds when the
 * two primes are close together (their distance is about
 * sqrt(8 * rounds) * n^(1/4)), which careless generators produce.
 *
 * a^2 - n is followed modulo 256 and modulo SQUARE_M in machine words;
 * only a round where it can be a square there (about 1 in 500) brings
 * the big numbers up to date and asks GMP.  A square is a square modulo
 * anything, so no round that could factor n is skipped.
 */
static bool fermat_factors(const struct vk *vk, const mpz_t n)
{
	mpz_t a, b2, b, t;
	unsigned long i, at = 0, k;
	uint64_t r256, a256, rq, aq;
	bool found = false;

	mpz_inits(a, b2, b, t, NULL);
	mpz_sqrtrem(a, b2, n);
	if (mpz_sgn(b2) != 0)
		mpz_add_ui(a, a, 1);
	mpz_mul(b2, a, a);
	mpz_sub(b2, b2, n);
	r256 = mpz_fdiv_ui(b2, 256);
	a256 = mpz_fdiv_ui(a, 256);
	rq = mpz_fdiv_ui(b2, SQUARE_M);
	aq = mpz_fdiv_ui(a, SQUARE_M);
	for (i = 0; i < vk->fermat_rounds; i++) {
		if (maybe_square(vk, r256, rq)) {
			/* Round i: a + k, and (a + k)^2 - n = b2 + k(2a + k). */
			k = i - at;
			if (k) {
				mpz_mul_2exp(t, a, 1);
				mpz_add_ui(t, t, k);
				mpz_addmul_ui(b2, t, k);
				mpz_add_ui(a, a, k);
				at = i;
			}
			if (mpz_perfect_square_p(b2)) {
				/* a - b = 1 is n = 1 * n: no factor. */
				mpz_sqrt(b, b2);
				mpz_sub(t, a, b);
				if (mpz_cmp_ui(t, 1) > 0) {
					found = true;
					break;
				}
			}
		}
		/* (a + 1)^2 - n = a^2 - n + 2a + 1 */
		r256 = (r256 + 2 * a256 + 1) % 256;
		a256 = (a256 + 1) % 256;
		rq = (rq + 2 * aq + 1) % SQUARE_M;
		aq = (aq + 1) % SQUARE_M;
	}
	mpz_clears(a, b2, b, t, NULL);
	return found;
}

/*
 * Exact ROCA test: n mod M is a power of 65537.  n^order = 1 puts n in
 * the subgroup of elements whose order divides the generator's; within
 * it, n is a power of 65537 when, for every prime power q^e of the order,
 * n^(order/q^e) is a power of 65537^(order/q^e) (Pohlig-Hellman: the
 * q-parts of a cyclic group).  Each search runs at most q^e <= 83 steps.
 */
static bool roca_dlog(const struct vk *vk, const mpz_t n)
{
	mpz_t h, x;
	size_t i;
	unsigned long j;
	bool in = true;

	mpz_inits(h, x, NULL);
	mpz_powm(h, n, vk->roca_order, vk->roca_m);
	if (mpz_cmp_ui(h, 1) != 0) {
		in = false;
		goto out;
	}
	for (i = 0; i < vk->n_roca_pw && in; i++) {
		const struct roca_power *pw = &vk->roca_pw[i];

		mpz_powm(h, n, pw->exp, vk->roca_m);
		mpz_set_ui(x, 1);
		for (j = 0; j < pw->qe; j++) {
			if (mpz_cmp(x, h) == 0)
				break;
			mpz_mul(x, x, pw->g);
			mpz_mod(x, x, vk->roca_m);
		}
		in = j < pw->qe;
	}
out:
	mpz_clears(h, x, NULL);
	return in;
}

/* res: n mod each small prime; ROCA's primes 3..167 follow 2 there. */
static bool roca_fingerprint(const struct vk *vk, const mpz_t n,
			     const unsigned short *res)
{
	size_t i;

	/* The published per-prime test first: it rejects almost every key
	 * on the residues already known. */
	for (i = 0; i < ROCA_N_PRIMES; i++)
		if (!mask_test(vk->roca_mask[i], res[i + 1]))
			return false;
	return roca_dlog(vk, n);
}

static int check_rsa(struct vk *vk, const struct mssl_key_info *k,
		     struct mssl_findings *out)
{
	const struct mssl_host *h = vk->host;
	char value[32], spki[65], ebuf[24];
	unsigned short res[SMALL_FACTOR_MAX];
	unsigned long f;
	unsigned bits;
	mpz_t n, e;
	int rc = 0;

	mpz_inits(n, e, NULL);
	import_be(n, k->rsa_n, k->rsa_n_len);
	import_be(e, k->rsa_e, k->rsa_e_len);
	/* The size is the modulus's, whatever the key says it is. */
	bits = mpz_sgn(n) ? (unsigned)mpz_sizeinbase(n, 2) : 0;
	snprintf(value, sizeof(value), "RSA %u", bits);
	hex_encode(k->spki_sha256, sizeof(k->spki_sha256), spki);

	if (bits < RSA_MIN_BITS) {
		rc = h->finding(
			out, MSSL_SEV_ERROR, "key.rsa_too_small", "key", value,
			MSSL_N_("the RSA key has %u bits, fewer than the %u required: generate a new key of %u to %u bits"),
			bits, RSA_MIN_BITS, RSA_MIN_BITS, RSA_MAX_BITS);
		if (rc)
			goto out;
	}
	if (bits > RSA_MAX_BITS) {
		rc = h->finding(
			out, MSSL_SEV_ERROR, "key.rsa_too_large", "key", value,
			MSSL_N_("the RSA key has %u bits, more than the %u allowed: generate a new key of %u to %u bits"),
			bits, RSA_MAX_BITS, RSA_MIN_BITS, RSA_MAX_BITS);
		if (rc)
			goto out;
	}
	if (bits % 8) {
		rc = h->finding(
			out, MSSL_SEV_ERROR, "key.rsa_size", "key", value,
			MSSL_N_("the RSA key has %u bits, not a multiple of 8: generate a new key of a usual size such as 2048, 3072 or 4096 bits"),
			bits);
		if (rc)
			goto out;
	}
	if (mpz_cmp_ui(e, RSA_EXPONENT) != 0) {
		if (mpz_sizeinbase(e, 2) <= 64) {
			uint64_t v = 0;
			size_t i, from;

			/* At most 64 significant bits: the last 8 bytes. */
			from = k->rsa_e_len > 8 ? k->rsa_e_len - 8 : 0;
			for (i = from; i < k->rsa_e_len; i++)
				v = v << 8 | k->rsa_e[i];
			snprintf(ebuf, sizeof(ebuf), "%llu",
				 (unsigned long long)v);
			rc = h->finding(
				out, MSSL_SEV_ERROR, "key.rsa_exponent", "key",
				value,
				MSSL_N_("the RSA public exponent is %s; only %u is accepted: generate a new key with the usual exponent %u"),
				ebuf, RSA_EXPONENT, RSA_EXPONENT);
		} else {
			rc = h->finding(
				out, MSSL_SEV_ERROR, "key.rsa_exponent", "key",
				value,
				MSSL_N_("the RSA public exponent is a %u-bit number; only %u is accepted: generate a new key with the usual exponent %u"),
				(unsigned)mpz_sizeinbase(e, 2), RSA_EXPONENT,
				RSA_EXPONENT);
		}
		if (rc)
			goto out;
	}

	/* The weak-key tests need a modulus with something to factor. */
	if (mpz_cmp_ui(n, 1) <= 0 || bits > WEAK_TESTS_MAX_BITS)
		goto out;
	small_residues(vk, n, res);
	f = small_factor(vk, n, res);
	if (f) {
		rc = h->finding(
			out, MSSL_SEV_ERROR, "key.small_factor", "key", spki,
			MSSL_N_("the RSA modulus is divisible by %lu, so the key is broken: generate a new key with a standard tool"),
			f);
		if (rc)
			goto out;
	}
	if (fermat_factors(vk, n)) {
		rc = h->finding(
			out, MSSL_SEV_ERROR, "key.fermat", "key", spki,
			MSSL_N_("the RSA key's two primes are too close together, so the modulus can be factored at once (Fermat's method): generate a new key with a standard tool"));
		if (rc)
			goto out;
	}
	if (roca_fingerprint(vk, n, res)) {
		rc = h->finding(
			out, MSSL_SEV_ERROR, "key.roca", "key", spki,
			MSSL_N_("the RSA key was made by the flawed Infineon library (ROCA, CVE-2017-15361) and can be factored: update the device's firmware, then generate a new key"));
		if (rc)
			goto out;
	}
out:
	mpz_clears(n, e, NULL);
	return rc;
}

/* ---------------------------------------------------------------------
 * ECDSA
 * ------------------------------------------------------------------ */

static int curve_find(const char *name)
{
	int i;

	if (!name)
		return -1;
	for (i = 0; i < N_CURVES; i++)
		if (strcmp(name, curves[i].name) == 0 ||
		    strcmp(name, curves[i].oid) == 0)
			return i;
	return -1;
}

/* Both coordinates reduced mod p and y^2 = x^3 - 3x + b (mod p). */
static bool on_curve(const struct vk *vk, int c, const mpz_t x, const mpz_t y)
{
	mpz_t l, r;
	bool ok;

	if (mpz_cmp(x, vk->curve_p[c]) >= 0 || mpz_cmp(y, vk->curve_p[c]) >= 0)
		return false;
	mpz_inits(l, r, NULL);
	mpz_mul(l, y, y);
	mpz_mod(l, l, vk->curve_p[c]);
	mpz_mul(r, x, x);
	mpz_sub_ui(r, r, 3);
	mpz_mul(r, r, x);
	mpz_add(r, r, vk->curve_b[c]);
	mpz_mod(r, r, vk->curve_p[c]);
	ok = mpz_cmp(l, r) == 0;
	mpz_clears(l, r, NULL);
	return ok;
}

static int check_ec(struct vk *vk, const struct mssl_key_info *k,
		    struct mssl_findings *out)
{
	const struct mssl_host *h = vk->host;
	const char *name = k->ec_curve ? k->ec_curve : "unknown";
	char value[80], spki[65];
	int c = curve_find(k->ec_curve);
	bool allowed;
	mpz_t x, y;
	int rc = 0;

	snprintf(value, sizeof(value), "ECDSA %s", name);
	allowed = c == CURVE_P256 || c == CURVE_P384 ||
		  (c == CURVE_P521 && vk->allow_p521);
	if (!allowed) {
		if (vk->allow_p521)
			rc = h->finding(
				out, MSSL_SEV_ERROR, "key.ec_curve", "key",
				value,
				MSSL_N_("the ECDSA curve %s is not accepted: generate a new key on P-256, P-384 or P-521"),
				name);
		else
			rc = h->finding(
				out, MSSL_SEV_ERROR, "key.ec_curve", "key",
				value,
				MSSL_N_("the ECDSA curve %s is not accepted: generate a new key on P-256 or P-384"),
				name);
		if (rc)
			return rc;
	}
	/* The point is checked on every curve this plugin knows, accepted
	 * or not, so that every finding shows at once. */
	if (c < 0)
		return 0;
	mpz_inits(x, y, NULL);
	import_be(x, k->ec_x, k->ec_x ? k->ec_len : 0);
	import_be(y, k->ec_y, k->ec_y ? k->ec_len : 0);
	if (!on_curve(vk, c, x, y)) {
		hex_encode(k->spki_sha256, sizeof(k->spki_sha256), spki);
		rc = h->finding(
			out, MSSL_SEV_ERROR, "key.ec_point", "key", spki,
			MSSL_N_("the public key is not a point on %s, so the request is damaged or forged: generate a new key and a new request"),
			curves[c].name);
	}
	mpz_clears(x, y, NULL);
	return rc;
}

/* ---------------------------------------------------------------------
 * The validator
 * ------------------------------------------------------------------ */

static int vk_check(void *state, const struct mssl_check *in,
		    struct mssl_findings *out)
{
	struct vk *vk = state;
	const struct mssl_key_info *k;

	if (!vk || !in || !in->csr || !out) {
		if (vk)
			vk->host->error(
				vk->hctx, MSSL_EINVAL, "key.input",
				"validate-key: called without a request");
		return MSSL_EINVAL;
	}
	k = &in->csr->key;
	switch (k->alg) {
	case MSSL_KEY_RSA:
		if (!k->rsa_n || !k->rsa_e) {
			vk->host->error(
				vk->hctx, MSSL_EINVAL, "key.input",
				"validate-key: RSA key without modulus or exponent");
			return MSSL_EINVAL;
		}
		return check_rsa(vk, k, out);
	case MSSL_KEY_EC:
		return check_ec(vk, k, out);
	default:
		return vk->host->finding(
			out, MSSL_SEV_ERROR, "key.algorithm", "key",
			k->alg_name ? k->alg_name : "unknown",
			MSSL_N_("%s keys are not accepted: generate an RSA key of 2048 bits or more, or an ECDSA key on P-256 or P-384"),
			k->alg_name ? k->alg_name : "unknown");
	}
}

/* ---------------------------------------------------------------------
 * Tables, configuration, init, fini
 * ------------------------------------------------------------------ */

static int tables_init(struct vk *vk)
{
	bool composite[SMALL_FACTOR_MAX + 1] = { false };
	uint64_t order = 1;
	unsigned long p, q, x;
	size_t i;

	for (p = 2; p <= SMALL_FACTOR_MAX; p++) {
		if (composite[p])
			continue;
		vk->small_primes[vk->n_small_primes++] = (unsigned short)p;
		for (q = p * p; q <= SMALL_FACTOR_MAX; q += p)
			composite[q] = true;
	}

	for (i = 0; i < vk->n_small_primes;) {
		unsigned long w = 1;

		while (i < vk->n_small_primes &&
		       w <= ULONG_MAX / vk->small_primes[i])
			w *= vk->small_primes[i++];
		vk->packs[vk->n_packs] = w;
		vk->pack_end[vk->n_packs++] = (unsigned short)i;
	}
	for (x = 0; x < 256; x++)
		mask_set(vk->square256, x * x % 256);
	for (i = 0; i < 6; i++)
		for (x = 0; x < square_mods[i]; x++)
			mask_set(vk->square_mask[i], x * x % square_mods[i]);

	/* The subgroup of 65537 mod each prime 3..167, and its order. */
	mpz_init_set_ui(vk->roca_m, 2);
	for (i = 0, p = 3; p <= ROCA_MAX_PRIME && i < ROCA_N_PRIMES; p++) {
		uint64_t ord = 0;

		if (composite[p])
			continue;
		vk->roca_primes[i] = (unsigned short)p;
		x = 1;
		do {
			mask_set(vk->roca_mask[i], x);
			x = x * (ROCA_GENERATOR % p) % p;
			ord++;
		} while (x != 1);
		order = order / gcd_u64(order, ord) * ord;
		mpz_mul_ui(vk->roca_m, vk->roca_m, p);
		i++;
	}

	/* The order is a product of primes below 167 (2454106387091158800). */
	mpz_init(vk->roca_order);
	mpz_import(vk->roca_order, 1, 1, sizeof(order), 0, 0, &order);
	for (q = 2; q <= ROCA_MAX_PRIME; q++) {
		struct roca_power *pw;
		unsigned long qe = 1;

		if (composite[q] || order % q)
			continue;
		if (vk->n_roca_pw == ROCA_MAX_POWERS)
			break;
		pw = &vk->roca_pw[vk->n_roca_pw];
		while (order % (qe * q) == 0)
			qe *= q;
		pw->qe = qe;
		mpz_init(pw->exp);
		mpz_divexact_ui(pw->exp, vk->roca_order, qe);
		mpz_init(pw->g);
		mpz_set_ui(pw->g, ROCA_GENERATOR);
		mpz_powm(pw->g, pw->g, pw->exp, vk->roca_m);
		vk->n_roca_pw++;
	}

	for (i = 0; i < N_CURVES; i++) {
		mpz_init_set_str(vk->curve_p[i], curves[i].p_hex, 16);
		mpz_init_set_str(vk->curve_b[i], curves[i].b_hex, 16);
	}
	vk->mpz_ready = true;

	/* The tables are fixed: anything else is a bug, not bad input. */
	if (vk->roca_primes[ROCA_N_PRIMES - 1] != ROCA_MAX_PRIME ||
	    order != 2454106387091158800ull || q <= ROCA_MAX_PRIME) {
		vk->host->error(vk->hctx, MSSL_EPLUGIN, "key.tables",
				"validate-key: inconsistent ROCA tables");
		return MSSL_EPLUGIN;
	}
	return 0;
}

static int config_fermat_rounds(struct vk *vk)
{
	const char *v = vk->host->config_get(vk->hctx, "fermat_rounds");
	char *end = NULL;
	unsigned long n;

	vk->fermat_rounds = FERMAT_ROUNDS_DEFAULT;
	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || errno || *end != '\0' || n < 1 ||
	    n > FERMAT_ROUNDS_MAX)
		return vk->host->config_error(vk->hctx, "fermat_rounds",
					      "'%s' must be an integer from 1 "
					      "to %lu",
					      v, FERMAT_ROUNDS_MAX);
	vk->fermat_rounds = n;
	return 0;
}

static int config_allow_p521(struct vk *vk)
{
	const char *v = vk->host->config_get(vk->hctx, "allow_p521");

	vk->allow_p521 = false;
	if (!v || strcmp(v, "no") == 0)
		return 0;
	if (strcmp(v, "yes") == 0) {
		vk->allow_p521 = true;
		return 0;
	}
	return vk->host->config_error(vk->hctx, "allow_p521",
				      "'%s' must be yes or no", v);
}

static void vk_fini(void *state)
{
	struct vk *vk = state;
	size_t i;

	if (!vk)
		return;
	if (vk->mpz_ready) {
		mpz_clear(vk->roca_m);
		mpz_clear(vk->roca_order);
		for (i = 0; i < vk->n_roca_pw; i++) {
			mpz_clear(vk->roca_pw[i].exp);
			mpz_clear(vk->roca_pw[i].g);
		}
		for (i = 0; i < N_CURVES; i++) {
			mpz_clear(vk->curve_p[i]);
			mpz_clear(vk->curve_b[i]);
		}
	}
	vk->host->free(vk->hctx, vk);
}

static int vk_init(const struct mssl_host *host, void *hctx, void **state)
{
	struct vk *vk;
	int rc;

	*state = NULL;
	vk = host->alloc(hctx, sizeof(*vk));
	if (!vk)
		return MSSL_ENOMEM;
	memset(vk, 0, sizeof(*vk));
	vk->host = host;
	vk->hctx = hctx;
	rc = config_fermat_rounds(vk);
	if (!rc)
		rc = config_allow_p521(vk);
	if (!rc)
		rc = tables_init(vk);
	if (rc) {
		vk_fini(vk);
		return rc;
	}
	*state = vk;
	return 0;
}

static const struct mssl_validator_ops validator_ops = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_validator_ops),
	.check = vk_check,
};

static const char *const config_keys[] = {
	"fermat_rounds",
	"allow_p521",
	NULL,
};

static const struct mssl_plugin plugin = {
	.abi_major = MSSL_PLUGIN_ABI_MAJOR,
	.abi_minor = MSSL_PLUGIN_ABI_MINOR,
	.size = sizeof(struct mssl_plugin),
	.kind = MSSL_PLUGIN_VALIDATOR,
	/* The state is read-only once init returns. */
	.flags = MSSL_PLUGIN_THREAD_SAFE,
	.name = "validate-key",
	.version = "1",
	.description = "key sizes, exponent, curves and weak keys",
	.init = vk_init,
	.fini = vk_fini,
	.ops = &validator_ops,
	.config_keys = config_keys,
};

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void);

MSSL_PLUGIN_EXPORT const struct mssl_plugin *mssl_plugin_entry(void)
{
	return &plugin;
}
