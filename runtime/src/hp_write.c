/* The write sequence: every store to running code that apply and revert
 * make, in one place. Preparation (routes, trampolines, writable pages)
 * can fail and is undone on failure; the commit cannot fail.
 *
 * A site moves between two states in one operation:
 *   to != 0  the padding jumps to `to` (directly, or via the trampoline's
 *            slot) and the entry jumps to the padding;
 *   to == 0  the original entry and padding are back.
 * The order keeps every thread on old or new code: a padding jump is
 * stored while no thread can take it yet (its entry does not jump there)
 * or while it still leads to a valid replacement, and only after every
 * core has seen it does an entry start to jump; an entry stops jumping
 * before its padding's jump is taken away. */
#include <stdint.h>

#include "hp_core.h"

static uint64_t pad_jump(uintptr_t sym, uintptr_t to)
{
	uint32_t rel = (uint32_t)(int32_t)(to - sym);

	/* Little-endian: E9 then rel32 (its next ip is sym). */
	return 0xe9ull | ((uint64_t)rel << 8);
}

static int reach32(uintptr_t from, uintptr_t to)
{
	int64_t d = (int64_t)(to - from);

	return d >= INT32_MIN && d <= INT32_MAX;
}

/* How the padding of sw->site reaches sw->to: straight when rel32 reaches
 * it, else through the site's trampoline (allocated on demand). */
static int route(struct hp_switch *sw, char *err, size_t errlen)
{
	struct hp_site *s = sw->site;
	int ret;

	sw->via_slot = 0;
	if (reach32(s->sym, sw->to)) {
		sw->pad = pad_jump(s->sym, sw->to);
		return 0;
	}
	if (!s->tramp) {
		ret = hp_tramp_alloc(s->sym - HP_PAD_BYTES, s->sym, &s->tramp, &s->slot, err,
				     errlen);
		if (ret)
			return ret;
		sw->new_tramp = s->tramp;
	}
	sw->via_slot = 1;
	sw->pad = pad_jump(s->sym, s->tramp);
	return 0;
}

int hp_write_prepare(struct hp_switch *sw, size_t n, int revert, struct hp_cw *cw, char *err,
		     size_t errlen)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		struct hp_site *s = sw[i].site;
		/* the quadwords of the padding and of the entry */
		uintptr_t from = (s->sym - HP_PAD_BYTES) & ~(uintptr_t)7;
		uintptr_t to = (s->entry + 2 + 7) & ~(uintptr_t)7;

		if (sw[i].to &&
		    !(ret = hp_fp(revert ? HP_FP_REVERT_ROUTE : HP_FP_APPLY_ROUTE, err, errlen)))
			ret = route(&sw[i], err, errlen);
		if (!ret && !(ret = hp_fp(revert ? HP_FP_REVERT_WRITABLE : HP_FP_APPLY_WRITABLE,
					  err, errlen)))
			ret = hp_cw_prepare(cw, from, to - from, err, errlen);
	}
	if (ret)
		hp_write_undo(sw, n);
	return ret;
}

void hp_write_undo(struct hp_switch *sw, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sw[i].new_tramp) {
			hp_tramp_free(sw[i].new_tramp);
			sw[i].site->tramp = sw[i].site->slot = 0;
			sw[i].new_tramp = 0;
		}
}

/* Each phase ends with a serialisation of the cores only if it stored
 * something a core must see before going on: phase 1's stores must be
 * seen before any entry jumps to them, and phase 2's entry jumps so that
 * an apply is in effect on every core when it returns. Phase 2's
 * restored paddings need none: their entries went back in phase 1 (and
 * were serialised), so no core reaches them any more except a thread
 * already past its entry, and that one runs either the old jump (to a
 * replacement that stays mapped) or the restored NOPs (into the
 * original). A revert thus costs one serialisation, and an apply whose
 * paddings already jump where it wants (a rehearsal's next cycle, see
 * hp_write_settle) one less. */
void hp_write_commit(struct hp_switch *sw, size_t n)
{
	int stored = 0;

	/* 1: new padding jumps (their entries do not jump yet, or they still
	 * lead to a replacement); entries that go back to the original. */
	for (size_t i = 0; i < n; i++) {
		struct hp_site *s = sw[i].site;

		if (!sw[i].to) {
			hp_store_in_quad(s->entry, s->orig_entry, 2);
			stored = 1;
			continue;
		}
		if (sw[i].via_slot && hp_load8(s->slot) != sw[i].to) {
			hp_store8(s->slot, sw[i].to);
			stored = 1;
		}
		if (s->cur_pad != sw[i].pad) {
			hp_store_in_quad(s->sym - HP_PAD_BYTES, sw[i].pad, HP_PAD_BYTES);
			s->cur_pad = sw[i].pad;
			stored = 1;
		}
	}
	if (stored)
		hp_sync_cores();
	stored = 0;
	/* 2: entries start jumping (a site without layers has an original
	 * entry); paddings of sites back to the original are restored. */
	for (size_t i = 0; i < n; i++) {
		struct hp_site *s = sw[i].site;

		if (sw[i].to && s->nlayers == 0) {
			hp_store_in_quad(s->entry, s->jmp_entry, 2);
			stored = 1;
		} else if (!sw[i].to && !hp_cw_holding()) {
			hp_store_in_quad(s->sym - HP_PAD_BYTES, s->orig_pad, HP_PAD_BYTES);
			s->cur_pad = s->orig_pad;
		}
	}
	if (stored)
		hp_sync_cores();
}

/* Within a rehearsal's slice (hp_cw_holding) a revert leaves the paddings
 * jumping: no entry leads to them, and the next cycle's apply, which
 * wants the same jumps, then stores nothing in phase 1 and needs no
 * serialisation there (two per cycle instead of three). When the slice
 * ends they get their original bytes back, still writable, before the
 * pages lose their write permission: between slices, as after any revert,
 * every unpatched function is byte for byte as built. */
void hp_write_settle(void)
{
	for (struct hp_site *s = hp_sites(); s; s = s->next)
		if (!s->nlayers && s->cur_pad != s->orig_pad) {
			hp_store_in_quad(s->sym - HP_PAD_BYTES, s->orig_pad, HP_PAD_BYTES);
			s->cur_pad = s->orig_pad;
		}
}
