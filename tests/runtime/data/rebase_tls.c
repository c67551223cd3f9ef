/* Thread-local storage: hp_pkg_rebase refuses to move it. */
__thread int rebase_tls_counter;

int rebase_tls_bump(void);

int rebase_tls_bump(void)
{
	return ++rebase_tls_counter;
}
