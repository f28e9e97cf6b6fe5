/* train_pop.c: being written. */
