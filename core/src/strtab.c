/* strtab.c: being written. */
