/* built without the plugin: no metadata */
unsigned checksum(const char *s)
{
	unsigned h = 0;
	while (*s)
		h = h * 31 + (unsigned char)*s++;
	return h;
}
