/*
 * Per-address state: open connections and a token bucket of requests
 * (rate_per_ip per second, up to rate_burst saved).  A chained hash
 * table on the loop thread; entries nobody uses any more (no connection,
 * bucket full again) are swept every minute, so a scan from many
 * addresses does not grow memory for ever.
 */
#include "mssld.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mssld_ip {
	struct mssld_ip *next;
	unsigned conns;
	double tokens;
	uint64_t last_ms;
	char addr[64];
};

static size_t hash(const char *s, size_t cap)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)(h & (cap - 1));
}

static void grow(struct mssld_server *srv)
{
	size_t nc = srv->ips_cap ? srv->ips_cap * 2 : 1024, i, k;
	struct mssld_ip **t = calloc(nc, sizeof(*t)), *e, *next;

	if (!t)
		return; /* keep the old table: longer chains, still correct */
	for (i = 0; i < srv->ips_cap; i++)
		for (e = srv->ips[i]; e; e = next) {
			next = e->next;
			k = hash(e->addr, nc);
			e->next = t[k];
			t[k] = e;
		}
	free(srv->ips);
	srv->ips = t;
	srv->ips_cap = nc;
}

static struct mssld_ip *lookup(struct mssld_server *srv, const char *addr)
{
	struct mssld_ip *e;
	size_t k;

	if (!srv->ips_cap || srv->ips_n >= srv->ips_cap)
		grow(srv);
	if (!srv->ips_cap)
		return NULL;
	k = hash(addr, srv->ips_cap);
	for (e = srv->ips[k]; e; e = e->next)
		if (strcmp(e->addr, addr) == 0)
			return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	e->tokens = (double)srv->conf.rate_burst;
	e->last_ms = uv_now(srv->loop);
	e->next = srv->ips[k];
	srv->ips[k] = e;
	srv->ips_n++;
	return e;
}

struct mssld_ip *mssld_ip_get(struct mssld_server *srv, const char *addr)
{
	struct mssld_ip *e = lookup(srv, addr);

	if (e)
		e->conns++;
	return e;
}

void mssld_ip_put(struct mssld_server *srv, struct mssld_ip *ip)
{
	if (ip && ip->conns)
		ip->conns--;
	(void)srv;
}

unsigned mssld_ip_conns(const struct mssld_ip *ip)
{
	return ip->conns;
}

static void refill(struct mssld_server *srv, struct mssld_ip *e)
{
	uint64_t now = uv_now(srv->loop);
	double burst = (double)srv->conf.rate_burst;

	e->tokens += (double)(now - e->last_ms) *
		     (double)srv->conf.rate_per_ip / 1000.0;
	if (e->tokens > burst)
		e->tokens = burst;
	e->last_ms = now;
}

bool mssld_rate_take(struct mssld_server *srv, const char *addr)
{
	struct mssld_ip *e = lookup(srv, addr);

	if (!e)
		return false; /* out of memory: refuse rather than not count */
	refill(srv, e);
	if (e->tokens < 1.0)
		return false;
	e->tokens -= 1.0;
	return true;
}

void mssld_ip_sweep(struct mssld_server *srv)
{
	struct mssld_ip **pp, *e;
	size_t i;

	for (i = 0; i < srv->ips_cap; i++) {
		pp = &srv->ips[i];
		while ((e = *pp)) {
			refill(srv, e);
			if (e->conns == 0 &&
			    e->tokens >= (double)srv->conf.rate_burst) {
				*pp = e->next;
				free(e);
				srv->ips_n--;
				continue;
			}
			pp = &e->next;
		}
	}
}

void mssld_ip_free_all(struct mssld_server *srv)
{
	struct mssld_ip *e, *next;
	size_t i;

	for (i = 0; i < srv->ips_cap; i++)
		for (e = srv->ips[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	free(srv->ips);
	srv->ips = NULL;
	srv->ips_cap = srv->ips_n = 0;
}
