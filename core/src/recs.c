/* recs.c: being written. */
