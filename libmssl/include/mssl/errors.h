/*
 * mssl status codes: 0 is success, errors are negative.
 *
 * One list generates the enum, mssl_strerror() and mssl_err_name().
 * Codes are never renumbered or reused: a retired code stays in the list
 * as MSSL_EOBSOLETEnn.  Add new codes at the end.
 */
#ifndef MSSL_ERRORS_H
#define MSSL_ERRORS_H

#define MSSL_ERRNO_MAP(XX)                                                   \
	XX(EINVAL, 1, "invalid argument")                                    \
	XX(ENOMEM, 2, "out of memory")                                       \
	XX(ECONFIG, 3, "configuration error")                                \
	XX(EPLUGIN, 4, "plugin refused")                                     \
	XX(EABI, 5, "plugin ABI mismatch")                                   \
	XX(ENOENT, 6, "not found")                                           \
	XX(EEXIST, 7, "already exists")                                      \
	XX(EPERM, 8, "not permitted for this role")                          \
	XX(ESTORE, 9, "store error")                                         \
	XX(EBUSY, 10, "store busy")                                          \
	XX(EAUDIT, 11, "audit log write failed")                             \
	XX(ETAMPER, 12, "audit log chain broken")                            \
	XX(EBALANCE, 13, "insufficient cert-year balance")                   \
	XX(EINPUT, 14, "invalid input")                                      \
	XX(ESTATE, 15, "not allowed in the current state")                   \
	XX(EIO, 16, "input/output error")                                    \
	XX(ECRYPTO, 17, "cryptographic failure")                             \
	XX(ELEDGER, 18, "ledger inconsistent")                               \
	XX(ESCHEMA, 19, "store schema newer than this program")              \
	XX(EUSAGE, 20, "bad usage")                                          \
	XX(EREJECTED, 21, "request refused by validation")

typedef enum mssl_status {
	MSSL_OK = 0,
#define XX(name, num, text) MSSL_##name = -(num),
	MSSL_ERRNO_MAP(XX)
#undef XX
} mssl_status;

#endif /* MSSL_ERRORS_H */
