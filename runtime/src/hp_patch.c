/* Applying and reverting patches: the registry of patched functions
 * ("sites") and of applied patches, and the write sequence of DESIGN §3.
 *
 * Every step that can fail (reading the package, verifying the target,
 * loading the package, finding trampoline space, making pages writable)
 * happens before the first store to the target's code. The stores
 * themselves cannot fail, so "all or nothing" means: on any failure, undo
 * the preparation (free trampolines, restore page protections, dlclose)
 * and the target's code has never been touched.
 *
 * Layout at a site (sym = function symbol, entry = sym + entry_offset):
 *   sym-8 .. sym-1  90 90 90 E9 rel32  -> replacement, or its trampoline
 *   entry           EB disp8           -> sym-5 (F9 without, F5 with endbr64)
 * A site keeps a stack of layers, one per patch replacing the function;
 * the newest decides where the padding's jump goes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hp_internal.h"
#include "hp_json.h"

#define NOP8 0x9090909090909090ull

struct patch;

struct layer {
	struct patch *patch;
	uintptr_t repl;
};

struct site {
	uintptr_t sym, entry;
	uint64_t orig_pad, cur_pad;
	uint16_t orig_entry, jmp_entry;
	uintptr_t tramp, slot; /* 0 until a trampoline is needed */
	struct layer *layers;
	size_t nlayers, cap;
	struct site *next;
};

struct patch {
	unsigned id;
	char *name;
	struct hp_manifest *m;
	struct timespec applied;
	void *dl;	     /* never closed once applied: threads may run in it */
	uintptr_t pbias;     /* the package's load bias (its hooks) */
	struct site **sites; /* one per manifest function */
	struct patch *next;  /* oldest first */
};

/* Per-function plan of one apply. */
struct fplan {
	struct site *site;
	int new_site;
	uintptr_t repl;
	uint64_t pad;	     /* padding to store */
	int via_slot;	     /* store repl into site->slot first */
	uintptr_t new_tramp; /* trampoline allocated by this operation */
};

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static int op_busy;
static struct site *sites;
static struct patch *patches;
static unsigned next_id = 1;
unsigned hp_test_apply_delay_ms;

int hp_op_begin(void)
{
	int idle = 0;

	return __atomic_compare_exchange_n(&op_busy, &idle, 1, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED)
		       ? 0
		       : -EBUSY;
}

void hp_op_end(void)
{
	__atomic_store_n(&op_busy, 0, __ATOMIC_RELEASE);
}

void hp_patch_atfork_prepare(void)
{
	pthread_mutex_lock(&state_lock);
}

void hp_patch_atfork_parent(void)
{
	pthread_mutex_unlock(&state_lock);
}

void hp_patch_atfork_child(void)
{
	pthread_mutex_init(&state_lock, NULL);
	hp_op_end();
}

static struct site *find_site(uintptr_t sym)
{
	for (struct site *s = sites; s; s = s->next)
		if (s->sym == sym)
			return s;
	return NULL;
}

static uint64_t pad_jump(uintptr_t sym, uintptr_t to)
{
	uint32_t rel = (uint32_t)(int32_t)(to - sym);

	/* Little-endian: bytes 90 90 90 E9 then rel32 (its next ip is sym). */
	return 0xe9909090ull | ((uint64_t)rel << 32);
}

static int reach32(uintptr_t from, uintptr_t to)
{
	int64_t d = (int64_t)(to - from);

	return d >= INT32_MIN && d <= INT32_MAX;
}

/* Decides how site s reaches repl: straight from the padding when rel32
 * reaches it, else through the site's trampoline (allocated on demand). */
static int route(struct site *s, uintptr_t repl, struct fplan *p, char *err, size_t errlen)
{
	int ret;

	p->via_slot = 0;
	if (reach32(s->sym, repl)) {
		p->pad = pad_jump(s->sym, repl);
		return 0;
	}
	if (!s->tramp) {
		ret = hp_tramp_alloc(s->sym - 8, s->sym, &s->tramp, &s->slot, err, errlen);
		if (ret)
			return ret;
		p->new_tramp = s->tramp;
	}
	p->via_slot = 1;
	p->pad = pad_jump(s->sym, s->tramp);
	return 0;
}

static int verify_func(const struct hp_image *img, const struct hp_manifest_func *f,
		       struct site **existing, char *err, size_t errlen)
{
	static const uint8_t endbr[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	uint32_t eo = f->entry_offset;
	int want_endbr = !!(f->flags & HP_PKG_FUNC_ENDBR);
	uintptr_t sym;
	uint8_t *buf;
	struct site *s;
	uint16_t entry;
	int ret = 0;

	if (eo != (want_endbr ? 4u : 0u) || f->expected_size < eo + 2) {
		hp_seterr(err, errlen,
			  "function '%s' (%s): entry offset %u / expected size %u do not fit its "
			  "endbr64 flag",
			  f->name, f->tu, eo, f->expected_size);
		return -HP_ENOTPATCHABLE;
	}
	if (f->target_offset < 8 ||
	    !hp_image_contains(img, f->target_offset - 8, 8ull + f->expected_size, PF_X)) {
		hp_seterr(err, errlen,
			  "function '%s' (%s): target offset %#llx (+%u bytes) lies outside the "
			  "executable segments of %s",
			  f->name, f->tu, (unsigned long long)f->target_offset, f->expected_size,
			  img->name);
		return -HP_EOUTSIDE;
	}
	sym = img->bias + f->target_offset;
	if ((sym - 8) % 8 || (sym + eo) % 2) {
		hp_seterr(err, errlen,
			  "function '%s' (%s) at %#lx is not patchable: padding is not 8-byte "
			  "aligned",
			  f->name, f->tu, (unsigned long)sym);
		return -HP_ENOTPATCHABLE;
	}
	buf = malloc(f->expected_size);
	if (!buf) {
		hp_seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < f->expected_size; i++)
		buf[i] = hp_code_ptr(sym)[i];
	s = find_site(sym);
	entry = hp_load2(sym + eo);
	/* Already patched by us: compare against the code as built. */
	if (s)
		memcpy(buf + eo, &s->orig_entry, 2);
	if (hp_pkg_checksum(buf, f->expected_size) != f->expected_hash) {
		hp_seterr(err, errlen,
			  "function '%s' (%s): code differs from what the patch was built against "
			  "(expected-bytes hash mismatch)",
			  f->name, f->tu);
		ret = -HP_EMISMATCH;
		goto free_buf;
	}
	if (s) {
		if (hp_load8(sym - 8) != s->cur_pad ||
		    entry != (s->nlayers ? s->jmp_entry : s->orig_entry)) {
			hp_seterr(err, errlen,
				  "function '%s' (%s): patched code was modified behind the "
				  "runtime's back",
				  f->name, f->tu);
			ret = -HP_ENOTPATCHABLE;
		}
		goto free_buf;
	}
	/* The expected bytes matched already; the layout is checked on top, so a
	 * package built for an unprepared function is refused with a clear
	 * reason. A first instruction of the compiler's own (ENTRY_INSN) may be
	 * any instruction of 2 bytes or more. */
	int any_entry = !!(f->flags & HP_PKG_FUNC_ENTRY_INSN);
	if (hp_load8(sym - 8) != NOP8 || (!any_entry && entry != 0x9066 && entry != 0x9090) ||
	    (want_endbr && memcmp(buf, endbr, 4) != 0)) {
		hp_seterr(err, errlen,
			  "function '%s' (%s) is not patchable: needs 8 NOPs before it and a "
			  "2-byte NOP at its entry%s (built without the hotpatch plugin?)",
			  f->name, f->tu, want_endbr ? " after endbr64" : "");
		ret = -HP_ENOTPATCHABLE;
	}
free_buf:
	free(buf);
	*existing = s;
	return ret;
}

static int verify_target(const struct hp_manifest *m, const struct hp_image *img,
			 struct fplan *plan, char *err, size_t errlen)
{
	int ret;

	for (size_t i = 0; i < m->func_count; i++) {
		for (size_t j = 0; j < i; j++)
			if (m->funcs[j].target_offset == m->funcs[i].target_offset) {
				hp_seterr(err, errlen,
					  "function '%s' is replaced twice in one package",
					  m->funcs[i].name);
				return -HP_EFORMAT;
			}
		ret = verify_func(img, &m->funcs[i], &plan[i].site, err, errlen);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < m->proxy_count; i++) {
		const struct hp_manifest_proxy *p = &m->proxies[i];

		if (!hp_image_contains(img, p->target_offset, 1, 0)) {
			hp_seterr(err, errlen,
				  "proxy '%s' (%s): target offset %#llx lies outside the segments "
				  "of %s",
				  p->name, p->tu, (unsigned long long)p->target_offset, img->name);
			return -HP_EOUTSIDE;
		}
	}
	return 0;
}

static const char *build_id_hex(const struct hp_manifest *m, char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < m->build_id_size && n + 3 <= len; i++)
		n += snprintf(buf + n, len - n, "%02x", m->build_id[i]);
	return buf;
}

/* Packages ever loaded, each as the sealed in-memory copy its loader name
 * refers to.
 *
 * What is verified is what runs: the caller's file is read once into a
 * memfd sealed against every write, the manifest and checksum are read from
 * that copy, and the loader maps that copy. Rewriting the package file
 * during or after an apply changes nothing in the process.
 *
 * glibc recognises an already loaded object by name before it opens the
 * file, and when it finds the same file under a new name it adds that
 * name to the old object. So "/proc/self/fd/N" must never be reused for a
 * different package while anything is loaded under it: the sealed copy
 * stays open as long as the package is mapped (forever, once applied), and
 * a package with the same bytes as one loaded before is loaded again under
 * that copy's name. */
struct loaded {
	void *dl;
	int fd;
	void *bytes; /* the package, to recognise it when it comes again */
	size_t size;
	struct loaded *next;
};
static struct loaded *loaded;

static struct loaded *find_loaded(const void *bytes, size_t size)
{
	for (struct loaded *l = loaded; l; l = l->next)
		if (l->size == size && memcmp(l->bytes, bytes, size) == 0)
			return l;
	return NULL;
}

/* The caller's package as read now. */
struct sealed {
	int fd;		    /* sealed copy; that of *old when it is the same package */
	struct loaded *old; /* a package with these bytes loaded before, or NULL */
	uint8_t *bytes;	    /* what was read */
	size_t size;
};

static int seal_package(int fd, struct sealed *s, char *err, size_t errlen)
{
	int ret;

	*s = (struct sealed){.fd = -1};
	ret = hp_pkg_read_file(fd, &s->bytes, &s->size, err, errlen);
	if (ret)
		return ret;
	s->old = find_loaded(s->bytes, s->size);
	if (s->old) {
		s->fd = s->old->fd;
		return 0;
	}
	s->fd = memfd_create("hotpatch-package", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->fd < 0) {
		hp_seterr(err, errlen, "cannot make a sealed copy of the package: %s",
			  strerror(errno));
		return -errno;
	}
	for (size_t done = 0; done < s->size;) {
		ssize_t n = write(s->fd, (char *)s->bytes + done, s->size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			hp_seterr(err, errlen, "cannot copy the package: %s", strerror(errno));
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	if (fcntl(s->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
		hp_seterr(err, errlen, "cannot seal the package copy: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* After a failed apply: what seal_package made and nothing keeps. */
static void release_sealed(struct sealed *s)
{
	if (!s->old && s->fd >= 0)
		close(s->fd);
	free(s->bytes);
	*s = (struct sealed){.fd = -1};
}

/* Remembers a package loaded under a new name after a successful apply;
 * the sealed copy then belongs to the registry. */
static void keep_loaded(void *dl, struct sealed *s)
{
	struct loaded *l;

	if (s->old) {
		free(s->bytes); /* loaded under its old name */
		*s = (struct sealed){.fd = -1};
		return;
	}
	l = malloc(sizeof(*l));
	if (l) {
		*l = (struct loaded){dl, s->fd, s->bytes, s->size, loaded};
		loaded = l;
	} else {
		free(s->bytes); /* the copy stays open and unnamed: harmless */
	}
	*s = (struct sealed){.fd = -1};
}

static int load_package(const struct sealed *s, void **dl, struct hp_image *pkg, char *err,
			size_t errlen)
{
	struct link_map *lm;
	char path[64];
	int ret = -HP_ELOAD;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
	*dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!*dl) {
		const char *why = dlerror();

		hp_seterr(err, errlen, "cannot load package: %s", why ? why : "dlopen failed");
		goto close_fd;
	}
	if (dlinfo(*dl, RTLD_DI_LINKMAP, &lm) != 0 || hp_image_by_bias(lm->l_addr, pkg) != 0) {
		hp_seterr(err, errlen, "cannot find the loaded package's segments");
		goto close_dl;
	}
	/* replacements and slots were checked against these segments before
	 * loading (hp_pkg_check_code) */
	return 0;
close_dl:
	dlclose(*dl);
	*dl = NULL;
	ret = -HP_EOUTSIDE;
close_fd:
	return ret;
}

/* Fills the package's proxy slots (they may sit in RELRO memory). The
 * package is not reachable from the target yet, so this is preparation. */
static int fill_slots(const struct hp_manifest *m, uintptr_t tbias, uintptr_t pbias,
		      struct hp_cw *cw, char *err, size_t errlen)
{
	int ret;

	for (size_t i = 0; i < m->proxy_count; i++) {
		uintptr_t slot = pbias + m->proxies[i].slot_offset;

		ret = hp_fp(HP_FP_APPLY_SLOTS, err, errlen);
		if (!ret)
			ret = hp_cw_prepare(cw, slot, 8, err, errlen);
		if (ret)
			return ret;
		hp_store8(slot, tbias + m->proxies[i].target_offset);
	}
	return 0;
}

static struct site *new_site(const struct hp_manifest_func *f, uintptr_t bias)
{
	struct site *s = calloc(1, sizeof(*s));
	int8_t disp;

	if (!s)
		return NULL;
	s->sym = bias + f->target_offset;
	s->entry = s->sym + f->entry_offset;
	s->orig_pad = s->cur_pad = hp_load8(s->sym - 8);
	s->orig_entry = hp_load2(s->entry);
	/* jmp sym-5 from the end of the 2-byte jump at entry. */
	disp = (int8_t) - (int)(f->entry_offset + 7);
	s->jmp_entry = 0xeb | ((uint16_t)(uint8_t)disp << 8);
	return s;
}

static void free_site(struct site *s)
{
	if (s->tramp)
		hp_tramp_free(s->tramp);
	free(s->layers);
	free(s);
}

static int push_layer(struct site *s, struct patch *p, uintptr_t repl)
{
	if (s->nlayers == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 2;
		struct layer *l = realloc(s->layers, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		s->layers = l;
		s->cap = cap;
	}
	s->layers[s->nlayers++] = (struct layer){p, repl};
	return 0;
}

/* Undoes the preparation of plan[0..n) (no code was written). */
static void unplan(struct fplan *plan, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (plan[i].new_site) {
			free_site(plan[i].site);
		} else if (plan[i].new_tramp) {
			hp_tramp_free(plan[i].new_tramp);
			plan[i].site->tramp = plan[i].site->slot = 0;
		}
	}
}

/* Creates sites, routes, trampolines, layer space and writable pages. */
static int prepare_plan(const struct hp_manifest *m, uintptr_t tbias, uintptr_t pbias,
			struct patch *p, struct fplan *plan, struct hp_cw *cw, char *err,
			size_t errlen)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < m->func_count; i++) {
		struct fplan *fp = &plan[i];

		fp->repl = pbias + m->funcs[i].replacement_offset;
		if (!fp->site) {
			if ((ret = hp_fp(HP_FP_APPLY_NEW_SITE, err, errlen)))
				break;
			fp->site = new_site(&m->funcs[i], tbias);
			if (!fp->site) {
				ret = -ENOMEM;
				hp_seterr(err, errlen, "out of memory");
				break;
			}
			fp->new_site = 1;
		}
		p->sites[i] = fp->site;
		/* Reserve the layer now so committing cannot fail. */
		if (fp->site->nlayers == fp->site->cap &&
		    !(ret = hp_fp(HP_FP_APPLY_LAYER, err, errlen))) {
			if ((ret = push_layer(fp->site, NULL, 0)) == 0)
				fp->site->nlayers--;
			else
				hp_seterr(err, errlen, "out of memory");
		}
		if (ret || (ret = hp_fp(HP_FP_APPLY_ROUTE, err, errlen)) ||
		    (ret = route(fp->site, fp->repl, fp, err, errlen)) ||
		    (ret = hp_fp(HP_FP_APPLY_WRITABLE, err, errlen)) ||
		    (ret = hp_cw_prepare(cw, fp->site->sym - 8, 8 + m->funcs[i].entry_offset + 2,
					 err, errlen))) {
			i++;
			break;
		}
	}
	if (ret)
		unplan(plan, i);
	return ret;
}

/* The write sequence. Nothing here can fail. */
static void commit_apply(struct patch *p, struct fplan *plan, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct site *s = plan[i].site;

		if (plan[i].via_slot)
			hp_store8(s->slot, plan[i].repl);
		if (s->cur_pad != plan[i].pad) {
			hp_store8(s->sym - 8, plan[i].pad);
			s->cur_pad = plan[i].pad;
		}
	}
	hp_sync_cores();
	for (size_t i = 0; i < n; i++) {
		struct site *s = plan[i].site;

		if (s->nlayers == 0)
			hp_store2(s->entry, s->jmp_entry);
		push_layer(s, p, plan[i].repl); /* space reserved */
		if (plan[i].new_site) {
			s->next = sites;
			sites = s;
		}
	}
	hp_sync_cores();
}

static void free_patch(struct patch *p)
{
	if (!p)
		return;
	free(p->sites);
	free(p->name);
	hp_manifest_free(p->m);
	free(p);
}

static void append_patch(struct patch *p)
{
	struct patch **pp = &patches;

	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
}

/* Calls m's hooks of one kind in package order, on this thread. The
 * caller holds the operation flag (no other apply or revert can run) but
 * not the state lock: a slow hook holds up no list or status. Returns 0,
 * or -HP_EHOOK with "pre-apply hook f(): reason" in err at the first hook
 * that returned non-zero. */
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

/* Set once by the constructor, before any listener thread exists, and
 * only read afterwards. */
static int trust_required;
static struct hp_pkg_keyring trusted;

int hp_trust_init(const char *dir, char *err, size_t errlen)
{
	struct hp_pkg_keyring kr = {0};
	int ret = hp_pkg_keyring_load_dir(&kr, dir, err, errlen);

	trust_required = 1;
	if (!ret && kr.count == 0) {
		hp_seterr(err, errlen, "no key file (*.pub) in '%s'", dir);
		ret = -ENOENT;
	}
	if (!ret)
		trusted = kr;
	return ret;
}

/* The signature itself was verified by the reader; this decides whether
 * its key may run code here. */
static int check_trust(const struct hp_manifest *m, char *err, size_t errlen)
{
	if (!trust_required)
		return 0;
	if (trusted.count == 0) {
		hp_seterr(err, errlen,
			  "no trusted key loaded (HOTPATCH_TRUSTED_KEYS failed at start): "
			  "every package is refused");
		return -HP_EUNTRUSTED;
	}
	return hp_pkg_keyring_check(&trusted, m, err, errlen);
}

int hp_apply_locked(int fd, const struct hp_apply_opts *opts, unsigned *id, char *err,
		    size_t errlen)
{
	struct hp_manifest *m = NULL;
	struct hp_image img, pkg;
	struct hp_cw cw = {0};
	struct fplan *plan = NULL;
	struct patch *p = NULL;
	char hex[2 * HP_PKG_BUILD_ID_MAX + 1] = "";
	struct sealed sealed;
	int ret;

	if (err && errlen)
		err[0] = 0; /* stays "" on success unless a post-apply hook fails */
	memset(&sealed, 0, sizeof(sealed));
	sealed.fd = -1;
	ret = hp_fp(HP_FP_APPLY_READ, err, errlen);
	if (!ret)
		ret = seal_package(fd, &sealed, err, errlen);
	if (!ret && !(ret = hp_fp(HP_FP_APPLY_MANIFEST, err, errlen)))
		ret = hp_pkg_read_mem(sealed.bytes, sealed.size, &m, err, errlen);
	if (!ret && !(ret = hp_fp(HP_FP_APPLY_TRUST, err, errlen)))
		ret = check_trust(m, err, errlen);
	if (ret) {
		release_sealed(&sealed);
		return ret;
	}
	ret = hp_fp(HP_FP_APPLY_ALLOC, err, errlen);
	if (ret)
		goto free_all;
	ret = -ENOMEM;
	plan = calloc(m->func_count, sizeof(*plan));
	p = calloc(1, sizeof(*p));
	if (!plan || !p || !(p->sites = calloc(m->func_count, sizeof(*p->sites))) ||
	    !(p->name = strdup(opts && opts->sz > offsetof(struct hp_apply_opts, name) && opts->name
				       ? opts->name
				       : m->name))) {
		hp_seterr(err, errlen, "out of memory");
		goto free_all;
	}
	/* Outside the state lock, so list/status stay answered meanwhile. */
	if (hp_test_apply_delay_ms)
		usleep(hp_test_apply_delay_ms * 1000u);
	pthread_mutex_lock(&state_lock);
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
	    (ret = verify_target(m, &img, plan, err, errlen)))
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
	    (ret = load_package(&sealed, &p->dl, &pkg, err, errlen)))
		goto unlock;
	ret = fill_slots(m, img.bias, pkg.bias, &cw, err, errlen);
	if (ret)
		goto close_dl;
	/* Pre-apply hooks: every check passed, the slots reach the program,
	 * and no code page has been touched yet. The operation flag keeps
	 * the registry as it is while the lock is let go. */
	if ((ret = hp_fp(HP_FP_APPLY_PRE_HOOKS, err, errlen)))
		goto close_dl;
	if (m->hook_count) {
		pthread_mutex_unlock(&state_lock);
		ret = run_hooks(m, pkg.bias, HP_PKG_HOOK_PRE_APPLY, err, errlen);
		pthread_mutex_lock(&state_lock);
		if (ret)
			goto close_dl;
	}
	ret = prepare_plan(m, img.bias, pkg.bias, p, plan, &cw, err, errlen);
	if (ret)
		goto close_dl;

	commit_apply(p, plan, m->func_count);
	hp_cw_finish(&cw);
	keep_loaded(p->dl, &sealed);
	p->id = next_id++;
	p->m = m;
	p->pbias = pkg.bias;
	clock_gettime(CLOCK_REALTIME, &p->applied);
	append_patch(p);
	pthread_mutex_unlock(&state_lock);
	if (id)
		*id = p->id;
	free(plan);
	/* Applied whatever a post-apply hook says; its failure is the
	 * caller's warning (err on success). */
	if (m->hook_count && run_hooks(m, pkg.bias, HP_PKG_HOOK_POST_APPLY, err, errlen) && err)
		snprintf(err + strlen(err), errlen - strlen(err), "; the patch stays applied");
	return 0;

close_dl:
	hp_cw_finish(&cw);
	dlclose(p->dl);
unlock:
	pthread_mutex_unlock(&state_lock);
free_all:
	release_sealed(&sealed);
	free(plan);
	free_patch(p); /* p->m is only set on success */
	hp_manifest_free(m);
	return ret;
}

static struct patch *find_patch(const char *name)
{
	struct patch *p, *last = NULL;
	char *end;
	unsigned long id;

	for (p = patches; p; p = p->next)
		last = p;
	if (!name || !*name)
		return last;
	id = strtoul(name, &end, 10);
	for (p = patches; p; p = p->next)
		if ((*end == 0 && p->id == id) || strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* Position of p's layer in site s. */
static size_t layer_of(const struct site *s, const struct patch *p)
{
	size_t k = 0;

	while (k < s->nlayers && s->layers[k].patch != p)
		k++;
	return k;
}

int hp_revert_locked(const char *name, unsigned *id, char *err, size_t errlen)
{
	struct hp_cw cw = {0};
	struct fplan *plan;
	struct patch *p, **pp, *reverted = NULL;
	size_t n;
	int ret = 0;

	if (err && errlen)
		err[0] = 0;

	pthread_mutex_lock(&state_lock);
	if ((ret = hp_fp(HP_FP_REVERT_FIND, err, errlen)))
		goto unlock;
	p = find_patch(name);
	if (!p) {
		hp_seterr(err, errlen,
			  name && *name ? "no applied patch '%s'" : "no applied patch%s",
			  name && *name ? name : "");
		ret = -HP_ENOPATCH;
		goto unlock;
	}
	if ((ret = hp_fp(HP_FP_REVERT_PRE_HOOKS, err, errlen)))
		goto unlock;
	if (p->m->hook_count) {
		pthread_mutex_unlock(&state_lock);
		ret = run_hooks(p->m, p->pbias, HP_PKG_HOOK_PRE_REVERT, err, errlen);
		pthread_mutex_lock(&state_lock);
		if (ret)
			goto unlock;
	}
	n = p->m->func_count;
	if ((ret = hp_fp(HP_FP_REVERT_ALLOC, err, errlen)))
		goto unlock;
	plan = calloc(n, sizeof(*plan));
	if (!plan) {
		hp_seterr(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto unlock;
	}
	/* Prepare: only sites where p is the newest layer change. */
	for (size_t i = 0; i < n && !ret; i++) {
		struct site *s = p->sites[i];

		plan[i].site = s;
		if (layer_of(s, p) != s->nlayers - 1)
			continue;
		if (s->nlayers > 1 && !(ret = hp_fp(HP_FP_REVERT_ROUTE, err, errlen)))
			ret = route(s, s->layers[s->nlayers - 2].repl, &plan[i], err, errlen);
		else if (s->nlayers <= 1)
			plan[i].pad = s->orig_pad;
		if (!ret && !(ret = hp_fp(HP_FP_REVERT_WRITABLE, err, errlen)))
			ret = hp_cw_prepare(&cw, s->sym - 8, 8 + (s->entry - s->sym) + 2, err,
					    errlen);
	}
	if (ret) {
		for (size_t i = 0; i < n; i++)
			if (plan[i].new_tramp) {
				hp_tramp_free(plan[i].new_tramp);
				plan[i].site->tramp = plan[i].site->slot = 0;
			}
		goto finish;
	}
	/* Commit: re-route to the layer below, or restore the entry first and
	 * the padding only once no core can still take the entry's jump. */
	for (size_t i = 0; i < n; i++) {
		struct site *s = plan[i].site;

		if (layer_of(s, p) != s->nlayers - 1)
			continue;
		if (s->nlayers > 1) {
			if (plan[i].via_slot)
				hp_store8(s->slot, s->layers[s->nlayers - 2].repl);
			if (s->cur_pad != plan[i].pad)
				hp_store8(s->sym - 8, plan[i].pad);
			s->cur_pad = plan[i].pad;
		} else {
			hp_store2(s->entry, s->orig_entry);
		}
	}
	hp_sync_cores();
	for (size_t i = 0; i < n; i++) {
		struct site *s = plan[i].site;
		size_t k = layer_of(s, p);

		if (s->nlayers == 1 && k == 0) {
			hp_store8(s->sym - 8, s->orig_pad);
			s->cur_pad = s->orig_pad;
		}
		memmove(&s->layers[k], &s->layers[k + 1],
			(s->nlayers - k - 1) * sizeof(*s->layers));
		s->nlayers--;
	}
	hp_sync_cores();
	for (pp = &patches; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	if (id)
		*id = p->id;
	/* p->dl stays open on purpose: a thread may still be inside it (and
	 * its post-revert hooks run from it below). */
	reverted = p;
finish:
	hp_cw_finish(&cw);
	free(plan);
unlock:
	pthread_mutex_unlock(&state_lock);
	if (reverted) {
		if (reverted->m->hook_count &&
		    run_hooks(reverted->m, reverted->pbias, HP_PKG_HOOK_POST_REVERT, err, errlen) &&
		    err)
			snprintf(err + strlen(err), errlen - strlen(err),
				 "; the patch stays reverted");
		free_patch(reverted);
	}
	return ret;
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

static char *put(char **cur, const char *s);

static int by_start(const void *a, const void *b)
{
	const struct hp_code_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int hp_patch_code_ranges(unsigned id, struct hp_code_range **out, size_t *n)
{
	size_t count = 0, names = 0, k = 0;
	struct hp_code_range *r;
	char *cur;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&state_lock);
	for (struct patch *p = patches; p; p = p->next)
		for (size_t j = 0; (!id || p->id == id) && j < p->m->func_count; j++) {
			count++;
			names += strlen(p->m->funcs[j].name) + 1;
		}
	r = malloc(count * sizeof(*r) + names + 1);
	if (!r) {
		pthread_mutex_unlock(&state_lock);
		return -ENOMEM;
	}
	cur = (char *)(r + count);
	for (struct patch *p = patches; p; p = p->next)
		for (size_t j = 0; (!id || p->id == id) && j < p->m->func_count; j++) {
			const struct hp_manifest_func *f = &p->m->funcs[j];
			r[k++] = (struct hp_code_range){
				.start = p->sites[j]->sym,
				.end = p->sites[j]->sym + f->expected_size,
				.patch = p->id,
				.name = put(&cur, f->name),
			};
		}
	pthread_mutex_unlock(&state_lock);
	/* Oldest patch first in the list, and qsort is not stable: keep the
	 * first of equal starts by patch id. */
	qsort(r, k, sizeof(*r), by_start);
	size_t w = 0;
	for (size_t i = 0; i < k; i++) {
		if (w && r[w - 1].start == r[i].start) {
			if (r[i].patch < r[w - 1].patch)
				r[w - 1] = r[i];
			continue;
		}
		r[w++] = r[i];
	}
	*out = r;
	*n = w;
	return 0;
}

/* ---- listing ---- */

struct hp_list {
	size_t n;
	struct list_entry {
		struct hp_patch_info info;
		const char *signer;
		const char **funcs;
	} * e;
	char *strings; /* one block holding every string of the snapshot */
};

static size_t patch_strings_size(const struct patch *p)
{
	size_t n = strlen(p->name) + strlen(p->m->target_name) + strlen(p->m->description) + 3 +
		   HP_PKG_KEY_ID_LEN;

	for (size_t j = 0; j < p->m->func_count; j++)
		n += strlen(p->m->funcs[j].name) + 1;
	return n;
}

static char *put(char **cur, const char *s)
{
	char *r = *cur;
	size_t len = strlen(s) + 1;

	memcpy(r, s, len);
	*cur += len;
	return r;
}

HP_EXPORT int hp_list_get(struct hp_list **out)
{
	struct hp_list *l = calloc(1, sizeof(*l));
	size_t bytes = 1, nfuncs = 0, k = 0, f = 0;
	const char **funcs;
	char *cur;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	pthread_mutex_lock(&state_lock);
	for (struct patch *p = patches; p; p = p->next) {
		l->n++;
		bytes += patch_strings_size(p);
		nfuncs += p->m->func_count;
	}
	l->e = calloc(l->n + 1, sizeof(*l->e));
	funcs = calloc(nfuncs + 1, sizeof(*funcs));
	l->strings = malloc(bytes);
	if (!l->e || !funcs || !l->strings) {
		pthread_mutex_unlock(&state_lock);
		free(funcs);
		hp_list_free(l);
		return -ENOMEM;
	}
	cur = l->strings;
	for (struct patch *p = patches; p; p = p->next, k++) {
		struct list_entry *e = &l->e[k];

		e->info = (struct hp_patch_info){
			.id = p->id,
			.name = put(&cur, p->name),
			.target = put(&cur, p->m->target_name),
			.description = put(&cur, p->m->description),
			.applied = p->applied,
			.func_count = p->m->func_count,
		};
		if (p->m->signer) {
			hp_pkg_key_id(p->m->signer, cur);
			e->signer = cur;
			cur += strlen(cur) + 1;
		} else {
			e->signer = put(&cur, "unsigned");
		}
		e->funcs = funcs + f;
		for (size_t j = 0; j < p->m->func_count; j++)
			funcs[f++] = put(&cur, p->m->funcs[j].name);
	}
	pthread_mutex_unlock(&state_lock);
	/* funcs is owned through the first entry. */
	if (l->n == 0)
		free(funcs);
	*out = l;
	return 0;
}

HP_EXPORT size_t hp_list_count(const struct hp_list *l)
{
	return l ? l->n : 0;
}

HP_EXPORT int hp_list_patch(const struct hp_list *l, size_t i, struct hp_patch_info *out)
{
	if (!l || i >= l->n || !out)
		return -EINVAL;
	*out = l->e[i].info;
	return 0;
}

HP_EXPORT const char *hp_list_signer(const struct hp_list *l, size_t i)
{
	return l && i < l->n ? l->e[i].signer : NULL;
}

HP_EXPORT const char *hp_list_func(const struct hp_list *l, size_t i, size_t j)
{
	if (!l || i >= l->n || j >= l->e[i].info.func_count)
		return NULL;
	return l->e[i].funcs[j];
}

HP_EXPORT void hp_list_free(struct hp_list *l)
{
	if (!l)
		return;
	if (l->n && l->e)
		free((void *)l->e[0].funcs);
	free(l->e);
	free(l->strings);
	free(l);
}

/* ---- rendering for the control channel ---- */

static void thread_name(pid_t tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, len, f))
		snprintf(buf, len, "exited");
	buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
}

/* Threads listed per function before "and N more". */
#define ACTIVE_THREADS_SHOWN 8

static void render_active_threads(FILE *f, const struct hp_active_report *rep, size_t range,
				  int json)
{
	size_t shown = 0, more = 0;

	for (size_t i = 0; i < rep->nhits; i++) {
		const struct hp_active_hit *h = &rep->hits[i];
		char name[32];

		if (h->range != range)
			continue;
		if (!json && shown == ACTIVE_THREADS_SHOWN) {
			more++;
			continue;
		}
		thread_name(h->tid, name, sizeof(name));
		if (json) {
			fprintf(f, "%s{\"tid\":%d,\"name\":", shown ? "," : "", (int)h->tid);
			hp_json_str(f, name);
			fprintf(f, ",\"executing\":%s}", h->executing ? "true" : "false");
		} else {
			fprintf(f, "%s%d (%s)", shown ? ", " : "", (int)h->tid, name);
		}
		shown++;
	}
	if (more)
		fprintf(f, " and %zu more", more);
}

static size_t threads_on(const struct hp_active_report *rep, size_t range)
{
	size_t n = 0;

	for (size_t i = 0; i < rep->nhits; i++)
		n += rep->hits[i].range == range;
	return n;
}

/* What a scan found: text lines, or (json) the members
 * "active":[...],"scan":{...} without a leading comma. */
static void active_render(FILE *f, const struct hp_code_range *r,
			  const struct hp_active_report *rep, int json, int with_patch)
{
	size_t nranges = 0, k = 0;

	for (size_t i = 0; i < rep->nhits; i++)
		if (rep->hits[i].range + 1 > nranges)
			nranges = rep->hits[i].range + 1;
	if (json)
		fputs("\"active\":[", f);
	for (size_t i = 0; i < nranges; i++) {
		size_t n = threads_on(rep, i);

		if (!n)
			continue;
		if (json) {
			fprintf(f, "%s{\"patch\":%u,\"function\":", k ? "," : "", r[i].patch);
			hp_json_str(f, r[i].name);
			fputs(",\"threads\":[", f);
			render_active_threads(f, rep, i, 1);
			fputs("]}", f);
		} else {
			if (with_patch)
				fprintf(f, "patch %u: ", r[i].patch);
			fprintf(f, "%s() is running on thread%s ", r[i].name, n > 1 ? "s" : "");
			render_active_threads(f, rep, i, 0);
			fprintf(f, ": %s its old code until it returns\n",
				n > 1 ? "they keep" : "it keeps");
		}
		k++;
	}
	if (json) {
		fprintf(f,
			"],\"scan\":{\"threads\":%zu,\"checked\":%zu,\"signalled\":%zu,"
			"\"pause_ns_max\":%llu,\"pause_ns_total\":%llu,\"scan_ns\":%llu,"
			"\"unchecked\":[",
			rep->threads, rep->checked, rep->signalled,
			(unsigned long long)rep->pause_ns_max,
			(unsigned long long)rep->pause_ns_total, (unsigned long long)rep->scan_ns);
		for (size_t i = 0; i < rep->nunchecked && i < HP_ACTIVE_UNCHECKED_MAX; i++) {
			fprintf(f, "%s{\"tid\":%d,\"why\":", i ? "," : "",
				(int)rep->unchecked[i].tid);
			hp_json_str(f, rep->unchecked[i].why);
			fputc('}', f);
		}
		fputs("]}", f);
		return;
	}
	for (size_t i = 0; i < rep->nunchecked && i < HP_ACTIVE_UNCHECKED_MAX; i++)
		fprintf(f, "thread %d not checked for old code: %s\n", (int)rep->unchecked[i].tid,
			rep->unchecked[i].why);
	if (rep->nunchecked > HP_ACTIVE_UNCHECKED_MAX)
		fprintf(f, "and %zu more threads not checked\n",
			rep->nunchecked - HP_ACTIVE_UNCHECKED_MAX);
}

static void iso_time(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void render_patches(FILE *f, const struct hp_list *l, int json)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct hp_patch_info *p = &l->e[i].info;
		char when[32];

		iso_time(&p->applied, when, sizeof(when));
		if (json) {
			fprintf(f, "%s{\"id\":%u,\"name\":", i ? "," : "", p->id);
			hp_json_str(f, p->name);
			fputs(",\"target\":", f);
			hp_json_str(f, p->target);
			fputs(",\"signer\":", f);
			hp_json_str(f, l->e[i].signer);
			fprintf(f, ",\"applied\":\"%s\",\"applied_ns\":%lld,\"functions\":[", when,
				(long long)p->applied.tv_sec * 1000000000ll + p->applied.tv_nsec);
			for (size_t j = 0; j < p->func_count; j++) {
				fputs(j ? "," : "", f);
				hp_json_str(f, l->e[i].funcs[j]);
			}
			fputs("]}", f);
			continue;
		}
		fprintf(f, "%u\t%s\t%s\t%s\t%s\t", p->id, p->name, when, p->target, l->e[i].signer);
		for (size_t j = 0; j < p->func_count; j++)
			fprintf(f, "%s%s", j ? "," : "", l->e[i].funcs[j]);
		fputc('\n', f);
	}
}

void hp_render_old_code(FILE *f, unsigned id, int json, int status)
{
	struct hp_active_report rep;
	struct hp_code_range *r;
	size_t n;
	int ret = hp_patch_code_ranges(id, &r, &n);

	if (!ret)
		ret = hp_active_scan(r, n, &rep);
	if (ret) {
		if (!json)
			fprintf(f, "threads not checked for old code: %s\n", hp_strerror(ret));
		else if (status)
			fprintf(f, ",\"active\":null,\"scan\":{\"error\":\"%s\"}",
				hp_strerror(ret));
		free(r);
		return;
	}
	if (json)
		fputc(',', f);
	active_render(f, r, &rep, json, status);
	if (status && !json)
		fprintf(f,
			"old code: %zu of %zu threads checked (%zu by signal, longest pause "
			"%.1f us)\n",
			rep.checked, rep.threads, rep.signalled, rep.pause_ns_max / 1000.0);
	hp_active_report_free(&rep);
	free(r);
}

int hp_render(int status, int json, char **out)
{
	struct hp_list *l;
	size_t len, nsites = 0, patched = 0;
	FILE *f;
	int ret = hp_list_get(&l);

	if (ret)
		return ret;
	f = open_memstream(out, &len);
	if (!f) {
		hp_list_free(l);
		return -ENOMEM;
	}
	pthread_mutex_lock(&state_lock);
	for (struct site *s = sites; s; s = s->next) {
		nsites++;
		patched += s->nlayers > 0;
	}
	pthread_mutex_unlock(&state_lock);
	if (json) {
		fputc('{', f);
		if (status) {
			fprintf(f, "\"pid\":%d,\"version\":\"%s\",\"sync\":\"%s\",\"socket\":",
				(int)getpid(), hp_version(), hp_sync_mode());
			hp_json_str(f, hp_listener_path());
			fprintf(f, ",\"functions_patched\":%zu,\"sites\":%zu,\"trampolines\":%zu,",
				patched, nsites, hp_tramp_in_use());
			if (trust_required)
				fprintf(f, "\"trusted_keys\":%zu,", trusted.count);
			else
				fputs("\"trusted_keys\":null,", f);
		}
		fputs("\"patches\":[", f);
		render_patches(f, l, 1);
		fputc(']', f);
		if (status)
			hp_render_old_code(f, 0, 1, 1);
		fputs("}\n", f);
	} else {
		if (status)
			fprintf(f,
				"pid %d, libhotpatch %s, core sync %s, socket %s\n"
				"%zu patches applied, %zu functions patched, %zu trampolines\n",
				(int)getpid(), hp_version(), hp_sync_mode(), hp_listener_path(),
				l->n, patched, hp_tramp_in_use());
		if (status && trust_required)
			fprintf(f, "packages must be signed by one of %zu trusted keys\n",
				trusted.count);
		else if (status)
			fputs("unsigned packages accepted (no HOTPATCH_TRUSTED_KEYS)\n", f);
		if (!status || l->n) {
			if (l->n)
				fputs("ID\tNAME\tAPPLIED\tTARGET\tSIGNER\tFUNCTIONS\n", f);
			else
				fputs("no patches applied\n", f);
			render_patches(f, l, 0);
		}
		if (status && l->n)
			hp_render_old_code(f, 0, 0, 1);
	}
	hp_list_free(l);
	return fclose(f) ? -ENOMEM : 0;
}
