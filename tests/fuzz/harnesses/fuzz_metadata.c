/* libFuzzer harness of mkpatch's reader of the .hotpatch metadata
 * (mp_metadata_parse, differ/metadata.c, on the format's reader
 * format/metadata/hp_md_reader.c): the bytes of the section as a
 * plugin-built binary carries them. mp_program_open() hands the parser
 * exactly this, the section's contents, so the buffer entry point is the
 * whole parser. After a successful parse the harness reads everything the
 * rest of mkpatch reads, and derives the correlation key of every
 * function name (the next code that parses those untrusted strings). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hp_metadata_format.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t refs_len(const char **refs, uint32_t n)
{
	size_t len = 0;

	for (uint32_t i = 0; i < n; i++)
		len += strlen(refs[i]);
	return len;
}

static bool tu_of(const struct mp_program *p, const struct mp_tu *tu)
{
	return tu >= p->tus && tu < p->tus + p->ntus;
}

/* Aborts when a parsed program breaks what model.h promises: strings that
 * end, TU pointers into the TU array, every defined name findable. */
static void walk(const struct mp_program *p)
{
	size_t len = 0;

	for (uint32_t i = 0; i < p->ntus; i++) {
		const struct mp_tu *tu = &p->tus[i];

		len += strlen(tu->source) + strlen(tu->cwd) + strlen(tu->output) +
		       strlen(tu->compiler_version) + strlen(tu->plugin_version) +
		       refs_len(tu->argv, tu->argc) + refs_len(tu->refs, tu->nrefs);
	}
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		const struct mp_func *f = &p->funcs[i];
		char *key;

		if (!tu_of(p, f->tu) || !mp_find_func(p, f->name, f->tu))
			abort();
		len += strlen(f->origin) + strlen(f->not_patchable_reason) +
		       refs_len(f->inlined, f->ninlined) + refs_len(f->calls, f->ncalls) +
		       refs_len(f->vars, f->nvars);
		if (mp_is_clone_name(f->name)) {
			key = mp_clone_key(f->name);
			if (key && strlen(key) > strlen(f->name))
				abort();
			free(key);
		}
	}
	for (uint32_t i = 0; i < p->nvars; i++) {
		const struct mp_var *v = &p->vars[i];

		if (!tu_of(p, v->tu))
			abort();
		len += strlen(v->owner) + strlen(v->source_name);
		if (!(v->flags & (HP_MD_VAR_PROXY | HP_MD_VAR_DECLARATION)) &&
		    !mp_find_var(p, v->name, v->tu))
			abort();
	}
	(void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_program p;
	struct mp_diag d = {{0}};
	uint8_t *md;
	int err;

	/* A private copy of exactly size bytes, as the section's contents
	 * are one block of their own in libelf's mapping. */
	md = malloc(size ? size : 1);
	if (!md)
		return 0;
	memcpy(md, data, size);
	memset(&p, 0, sizeof(p));
	err = mp_metadata_parse(&p, md, size, &d);
	if (!err)
		walk(&p);
	else if (err > 0 || (err == -HP_EMALFORMED && !d.msg[0]))
		abort();
	mp_program_release(&p);
	free(md);
	return 0;
}
