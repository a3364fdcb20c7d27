/**
 * Internal, not API: reading SQLite's WAL and the native WAL hook. Types here are public only
 * so that {@code io.walship.Primary} can use them; they may change in any release. See ADR 0011.
 */
package io.walship.internal.capture;
