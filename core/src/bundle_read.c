/* bundle_read.c: being written. */
