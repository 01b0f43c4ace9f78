/* The one libc call the JIT's code memory needs that Swift cannot import:
 * memfd_create is declared only under _GNU_SOURCE. */
#ifndef CODE_MEMORY_SUPPORT_H
#define CODE_MEMORY_SUPPORT_H

/* An anonymous memory file (close-on-exec) for mapping the same pages twice,
 * read+write and read+execute; -1 (errno set) where there is none. */
int thirdgen_memfd(const char *name);

#endif
