/**
 * walship's stored formats as API: the byte layout's constants ({@link io.walship.format.FormatLayout},
 * documented in {@code docs/FORMAT.md}) and the keys objects are stored under
 * ({@link io.walship.format.ObjectKey}). The readers and writers are internal
 * ({@code io.walship.internal.format}, ADR 0011).
 */
package io.walship.format;
