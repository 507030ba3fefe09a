/* Who acts: role, name, own account, where from. */
#include "op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mssl_actor {
	mssl_role role;
	char *name;
	char *account_id;
	char *remote;
	char *label;
	bool pin_change_only; /* a session on a card's issued PIN */
	bool anonymous; /* not yet known: a login, an unlock */
};

MSSL_API const char *mssl_role_name(mssl_role role)
{
	switch (role) {
	case MSSL_ROLE_OPERATOR:
		return "operator";
	case MSSL_ROLE_MANAGER:
		return "manager";
	case MSSL_ROLE_AUDITOR:
		return "auditor";
	default:
		return "none";
	}
}

MSSL_API mssl_actor *mssl_actor_new(mssl_role role, const char *name,
				    const char *account_id,
				    const char *remote)
{
	mssl_actor *a;
	bool member = role == MSSL_ROLE_MANAGER || role == MSSL_ROLE_AUDITOR;

	if (role != MSSL_ROLE_OPERATOR && !member)
		return NULL;
	if (mssl__str_empty(name) || (member && mssl__str_empty(account_id)))
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->role = role;
	a->name = strdup(name);
	a->account_id = member ? strdup(account_id) : NULL;
	a->remote = strdup(remote ? remote : "unknown");
	a->label = member ? mssl__asprintf("%s:%s:%s", mssl_role_name(role),
					   account_id, name) :
			    mssl__asprintf("%s:%s", mssl_role_name(role), name);
	if (!a->name || (member && !a->account_id) || !a->remote ||
	    !a->label) {
		mssl_actor_free(a);
		return NULL;
	}
	return a;
}

MSSL_API void mssl_actor_free(mssl_actor *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->account_id);
	free(a->remote);
	free(a->label);
	free(a);
}

mssl_role mssl__actor_role(const mssl_actor *a)
{
	return a ? a->role : MSSL_ROLE_NONE;
}

const char *mssl__actor_name(const mssl_actor *a)
{
	return a ? a->name : "";
}

const char *mssl__actor_account(const mssl_actor *a)
{
	return a ? a->account_id : NULL;
}

const char *mssl__actor_remote(const mssl_actor *a)
{
	return a ? a->remote : "";
}

const char *mssl__actor_label(const mssl_actor *a)
{
	return a ? a->label : "none";
}

mssl_actor *mssl__actor_anonymous(const char *account_id, const char *remote)
{
	mssl_actor *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->role = MSSL_ROLE_NONE;
	a->anonymous = true;
	a->name = strdup("anonymous");
	a->account_id = mssl__strdup(account_id);
	a->remote = strdup(remote ? remote : "unknown");
	a->label = mssl__asprintf("anonymous:%s", account_id ? account_id : "");
	if (!a->name || (account_id && !a->account_id) || !a->remote ||
	    !a->label) {
		mssl_actor_free(a);
		return NULL;
	}
	return a;
}

void mssl__actor_set_pin_change_only(mssl_actor *a)
{
	a->pin_change_only = true;
}

bool mssl__actor_pin_change_only(const mssl_actor *a)
{
	return a && a->pin_change_only;
}

bool mssl__actor_anonymous_p(const mssl_actor *a)
{
	return a && a->anonymous;
}
