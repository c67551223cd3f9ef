/* Applying and reverting patches, step by step, and the public entry
 * points (hp_core.h says which file does what).
 *
 * Every step that can fail (reading the package, verifying the target,
 * loading the package, finding trampoline space, making pages writable)
 * happens before the first store to the target's code, each behind a
 * named failpoint (hp_failpoint.c). The stores themselves cannot fail
 * (hp_write.c), so "all or nothing" means: on any failure, undo the
 * preparation (free trampolines, restore page protections, dlclose) and
 * the target's code has never been touched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hp_core.h"

unsigned hp_test_apply_delay_ms;

/* Calls m's hooks of one kind in package order, on this thread. The
 * caller holds the operation flag (no other apply or revert can run) but
 * not the registry lock: a slow hook holds up no list or status. Returns
 * 0, or -HP_EHOOK with "pre-apply hook f(): reason" in err at the first
 * hook that returned non-zero. */
static int run_hooks(const struct hp_manifest *m, uintptr_t pbias, uint32_t kind, char *err,
		     size_t errlen)
{
	for (size_t i = 0; i < m->hook_count; i++) {
		const struct hp_manifest_hook *h = &m->hooks[i];
		hotpatch_hook_fn fn;
		char msg[256] = "";
		int r;

		if (h->kind != kind)
			continue;
		fn = (hotpatch_hook_fn)(pbias + h->offset);
		r = fn(msg, sizeof(msg));
		msg[sizeof(msg) - 1] = 0;
		if (r) {
			hp_seterr(err, errlen, "%s hook %s() failed (%d)%s%s",
				  hp_pkg_hook_kind_name(kind), h->name, r, msg[0] ? ": " : "", msg);
			return -HP_EHOOK;
		}
	}
	return 0;
}

/* Pre-hooks with the registry lock let go (the operation flag keeps the
 * registry as it is meanwhile). */
static int run_pre_hooks(const struct hp_manifest *m, uintptr_t pbias, uint32_t kind, char *err,
			 size_t errlen)
{
	int ret;

	if (!m->hook_count)
		return 0;
	hp_registry_unlock();
	ret = run_hooks(m, pbias, kind, err, errlen);
	hp_registry_lock();
	return ret;
}

/* A post-hook's failure is the caller's warning (err on success). */
static void run_post_hooks(const struct hp_manifest *m, uintptr_t pbias, uint32_t kind,
			   const char *outcome, char *err, size_t errlen)
{
	if (m->hook_count && run_hooks(m, pbias, kind, err, errlen) && err)
		snprintf(err + strlen(err), errlen - strlen(err), "; the patch stays %s", outcome);
}

static const char *build_id_hex(const struct hp_manifest *m, char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < m->build_id_size && n + 3 <= len; i++)
		n += snprintf(buf + n, len - n, "%02x", m->build_id[i]);
	return buf;
}

/* Frees the sites prepare_sites made for this apply (those without an
 * existing one), which nothing else refers to yet. */
static void free_new_sites(size_t n, struct hp_switch *sw, struct hp_site *const *existing)
{
	for (size_t i = 0; i < n; i++)
		if (!existing[i] && sw[i].site) {
			hp_site_free(sw[i].site);
			sw[i].site = NULL;
		}
}

/* Sites for every function of p (new ones made here where existing[i] is
 * NULL, not linked yet) and one layer's room in each, so that committing
 * cannot fail. On failure the new sites are freed again. */
static int prepare_sites(const struct hp_manifest *m, uintptr_t tbias, struct hp_patch *p,
			 struct hp_switch *sw, struct hp_site *const *existing, char *err,
			 size_t errlen)
{
	int ret = 0;

	for (size_t i = 0; i < m->func_count && !ret; i++) {
		if (!sw[i].site) {
			if ((ret = hp_fp(HP_FP_APPLY_NEW_SITE, err, errlen)))
				break;
			sw[i].site = hp_site_new(&m->funcs[i], tbias);
			if (!sw[i].site) {
				hp_seterr(err, errlen, "out of memory");
				ret = -ENOMEM;
				break;
			}
		}
		p->sites[i] = sw[i].site;
		if (sw[i].site->nlayers == sw[i].site->cap &&
		    !(ret = hp_fp(HP_FP_APPLY_LAYER, err, errlen)) &&
		    (ret = hp_site_reserve(sw[i].site)))
			hp_seterr(err, errlen, "out of memory");
	}
	if (ret)
		free_new_sites(m->func_count, sw, existing);
	return ret;
}

int hp_apply_locked(int fd, const struct hp_apply_opts *opts, unsigned *id, char *err,
		    size_t errlen)
{
	struct hp_manifest *m = NULL;
	struct hp_image img;
	uintptr_t pbias = 0;
	struct hp_cw cw = {0};
	struct hp_switch *sw = NULL;
	struct hp_site **existing = NULL;
	struct hp_patch *p = NULL;
	char hex[2 * HP_PKG_BUILD_ID_MAX + 1] = "";
	struct hp_sealed sealed = {.fd = -1};
	int ret;

	if (err && errlen)
		err[0] = 0; /* stays "" on success unless a post-apply hook fails */
	ret = hp_fp(HP_FP_APPLY_READ, err, errlen);
	if (!ret)
		ret = hp_read_package(fd, &sealed, err, errlen);
	if (!ret && !(ret = hp_fp(HP_FP_APPLY_MANIFEST, err, errlen)))
		ret = (sealed.old ? hp_pkg_read_mem_known
				  : hp_pkg_read_mem)(sealed.bytes, sealed.size, &m, err, errlen);
	if (!ret && !(ret = hp_fp(HP_FP_APPLY_TRUST, err, errlen)))
		ret = hp_trust_check(m, err, errlen);
	if (ret) {
		hp_sealed_release(&sealed);
		return ret;
	}
	ret = hp_fp(HP_FP_APPLY_ALLOC, err, errlen);
	if (ret)
		goto free_all;
	ret = -ENOMEM;
	sw = calloc(m->func_count, sizeof(*sw));
	existing = calloc(m->func_count, sizeof(*existing));
	p = calloc(1, sizeof(*p));
	if (!sw || !existing || !p || !(p->sites = calloc(m->func_count, sizeof(*p->sites))) ||
	    !(p->name = strdup(opts && opts->sz > offsetof(struct hp_apply_opts, name) && opts->name
				       ? opts->name
				       : m->name))) {
		hp_seterr(err, errlen, "out of memory");
		goto free_all;
	}
	/* Outside the registry lock, so list/status stay answered meanwhile. */
	if (hp_test_apply_delay_ms)
		usleep(hp_test_apply_delay_ms * 1000u);
	hp_registry_lock();
	ret = hp_fp(HP_FP_APPLY_TARGET, err, errlen);
	if (ret)
		goto unlock;
	ret = hp_image_by_build_id(m->build_id, m->build_id_size, &img);
	if (ret) {
		hp_seterr(err, errlen, "target '%s' (build-id %s) is not loaded in this process",
			  m->target_name, build_id_hex(m, hex, sizeof(hex)));
		goto unlock;
	}
	if ((ret = hp_fp(HP_FP_APPLY_VERIFY, err, errlen)) ||
	    (ret = hp_verify_target(m, &img, existing, err, errlen)))
		goto unlock;
	if ((ret = hp_fp(HP_FP_APPLY_CHECK_CODE, err, errlen)) ||
	    (ret = hp_pkg_check_code(sealed.bytes, sealed.size, m, err, errlen)))
		goto unlock;
	if (opts && opts->sz > offsetof(struct hp_apply_opts, verify_only) && opts->verify_only) {
		if (id)
			*id = 0;
		goto unlock; /* ret == 0: it would apply */
	}
	if ((ret = hp_fp(HP_FP_APPLY_LOAD, err, errlen)) ||
	    (ret = hp_load_package(&sealed, &img, &p->dl, &pbias, err, errlen)))
		goto unlock;
	ret = hp_fill_slots(m, img.bias, pbias, &cw, err, errlen);
	if (ret)
		goto close_dl;
	/* Pre-apply hooks: every check passed, the slots reach the program,
	 * and no code page has been touched yet. */
	if ((ret = hp_fp(HP_FP_APPLY_PRE_HOOKS, err, errlen)) ||
	    (ret = run_pre_hooks(m, pbias, HP_PKG_HOOK_PRE_APPLY, err, errlen)))
		goto close_dl;
	for (size_t i = 0; i < m->func_count; i++)
		sw[i] = (struct hp_switch){.site = existing[i],
					   .to = pbias + m->funcs[i].replacement_offset};
	if ((ret = prepare_sites(m, img.bias, p, sw, existing, err, errlen)))
		goto close_dl;
	if ((ret = hp_write_prepare(sw, m->func_count, 0, &cw, err, errlen))) {
		free_new_sites(m->func_count, sw, existing);
		goto close_dl;
	}

	hp_write_commit(sw, m->func_count);
	for (size_t i = 0; i < m->func_count; i++) {
		hp_site_push(sw[i].site, p, sw[i].to); /* room reserved */
		if (!existing[i])
			hp_site_link(sw[i].site);
	}
	hp_cw_finish(&cw);
	hp_sealed_keep(p->dl, &sealed);
	p->m = m;
	p->pbias = pbias;
	clock_gettime(CLOCK_REALTIME, &p->applied);
	hp_patch_add(p);
	hp_registry_unlock();
	if (id)
		*id = p->id;
	free(sw);
	free(existing);
	/* Applied whatever a post-apply hook says. */
	run_post_hooks(m, pbias, HP_PKG_HOOK_POST_APPLY, "applied", err, errlen);
	return 0;

close_dl:
	hp_cw_finish(&cw);
	dlclose(p->dl);
unlock:
	hp_registry_unlock();
free_all:
	hp_sealed_release(&sealed);
	free(sw);
	free(existing);
	hp_patch_free(p); /* p->m is only set on success */
	hp_manifest_free(m);
	return ret;
}

int hp_revert_locked(const char *name, unsigned *id, char *err, size_t errlen)
{
	struct hp_cw cw = {0};
	struct hp_switch *sw;
	struct hp_patch *p, *reverted = NULL;
	size_t n = 0;
	int ret = 0;

	if (err && errlen)
		err[0] = 0;

	hp_registry_lock();
	if ((ret = hp_fp(HP_FP_REVERT_FIND, err, errlen)))
		goto unlock;
	p = hp_patch_find(name);
	if (!p) {
		hp_seterr(err, errlen,
			  name && *name ? "no applied patch '%s'" : "no applied patch%s",
			  name && *name ? name : "");
		ret = -HP_ENOPATCH;
		goto unlock;
	}
	if ((ret = hp_fp(HP_FP_REVERT_PRE_HOOKS, err, errlen)) ||
	    (ret = run_pre_hooks(p->m, p->pbias, HP_PKG_HOOK_PRE_REVERT, err, errlen)))
		goto unlock;
	if ((ret = hp_fp(HP_FP_REVERT_ALLOC, err, errlen)))
		goto unlock;
	sw = calloc(p->m->func_count, sizeof(*sw));
	if (!sw) {
		hp_seterr(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto unlock;
	}
	/* Only sites where p is the newest layer change: to the layer below,
	 * or back to the original. */
	for (size_t i = 0; i < p->m->func_count; i++) {
		struct hp_site *s = p->sites[i];

		if (hp_site_layer_of(s, p) != s->nlayers - 1)
			continue;
		sw[n++] = (struct hp_switch){
			.site = s, .to = s->nlayers > 1 ? s->layers[s->nlayers - 2].repl : 0};
	}
	ret = hp_write_prepare(sw, n, 1, &cw, err, errlen);
	if (!ret) {
		hp_write_commit(sw, n);
		for (size_t i = 0; i < p->m->func_count; i++)
			hp_site_drop(p->sites[i], p);
		hp_patch_remove(p);
		if (id)
			*id = p->id;
		/* p->dl stays open on purpose: a thread may still be inside it
		 * (and its post-revert hooks run from it below). */
		reverted = p;
	}
	hp_cw_finish(&cw);
	free(sw);
unlock:
	hp_registry_unlock();
	if (reverted) {
		run_post_hooks(reverted->m, reverted->pbias, HP_PKG_HOOK_POST_REVERT, "reverted",
			       err, errlen);
		hp_patch_free(reverted);
	}
	return ret;
}

void hp_slice_begin(void)
{
	hp_cw_hold_begin();
}

void hp_slice_end(void)
{
	hp_registry_lock();
	hp_write_settle();
	hp_registry_unlock();
	hp_cw_hold_end();
}

/* The forking thread held the registry lock (hp_patch_atfork_prepare):
 * the child's sites are one state or the other, and its code pages are
 * still writable. */
void hp_slice_atfork_child(void)
{
	if (!hp_cw_holding())
		return;
	hp_write_settle();
	hp_cw_atfork_child();
}

/* ---- public entry points ---- */

HP_EXPORT int hp_apply_fd(int pkg_fd, const struct hp_apply_opts *opts, unsigned *patch_id,
			  char *err, size_t errlen)
{
	int ret = hp_op_begin();

	if (ret) {
		hp_seterr(err, errlen, "busy: another apply or revert is in progress");
		return ret;
	}
	ret = hp_apply_locked(pkg_fd, opts, patch_id, err, errlen);
	hp_op_end();
	return ret;
}

HP_EXPORT int hp_apply_file(const char *path, const struct hp_apply_opts *opts, unsigned *patch_id,
			    char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		ret = -errno;
		hp_seterr(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return ret;
	}
	ret = hp_apply_fd(fd, opts, patch_id, err, errlen);
	close(fd);
	return ret;
}

HP_EXPORT int hp_revert(const char *patch, char *err, size_t errlen)
{
	int ret = hp_op_begin();

	if (ret) {
		hp_seterr(err, errlen, "busy: another apply or revert is in progress");
		return ret;
	}
	ret = hp_revert_locked(patch, NULL, err, errlen);
	hp_op_end();
	return ret;
}
