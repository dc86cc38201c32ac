/* sim/version.h — the program's version, one string everywhere (courier --version, the trace
 * header, the man pages, the HTML report). */
#ifndef COURIER_SIM_VERSION_H
#define COURIER_SIM_VERSION_H

/* "0.0-123-gabcdef0" (git describe at build time) or the VERSION file of a source tarball. */
const char *sim_version(void);

#endif
