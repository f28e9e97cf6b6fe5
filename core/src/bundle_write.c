/* bundle_write.c: being written. */
