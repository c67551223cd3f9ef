/* JSON output shared by the runtime's replies and the CLI. */
#ifndef HP_JSON_H
#define HP_JSON_H

#include <stdio.h>

/* Writes s to f as a JSON string: quoted, with '"', '\' and control
 * characters escaped. */
void hp_json_str(FILE *f, const char *s);

#endif
