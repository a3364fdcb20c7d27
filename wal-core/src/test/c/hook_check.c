/*
 * Loads the WAL hook into a SQLite of the machine it runs on and proves it works there: the
 * entry point registers its functions, walship_set_callback installs the commit callback, each
 * commit of an attached connection calls it with the attach token and the WAL's frames, the
 * authorizer refuses leaving WAL mode, and extension loading is off again afterwards.
 * Aarch64HookTest builds it for arm64 and runs it under qemu-user against Debian's arm64 SQLite.
 *
 * Usage: hook_check <libwalship> <sqlite library> <database file>; prints "ok ..." and exits 0.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sqlite3 sqlite3;
typedef int (*exec_fn)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **);

static int commits;
static int64_t last_token;
static int32_t last_frames;

static void on_commit(int64_t token, int32_t frames) {
    commits++;
    last_token = token;
    last_frames = frames;
}

static int fail(const char *what, const char *detail) {
    printf("FAILED %s: %s\n", what, detail ? detail : "");
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        return fail("usage", "hook_check <libwalship> <sqlite library> <database file>");
    }
    void *sqlite = dlopen(argv[2], RTLD_NOW | RTLD_GLOBAL);
    if (!sqlite) {
        return fail("dlopen sqlite", dlerror());
    }
    int (*open)(const char *, sqlite3 **) = (int (*)(const char *, sqlite3 **)) dlsym(sqlite, "sqlite3_open");
    int (*enable)(sqlite3 *, int) = (int (*)(sqlite3 *, int)) dlsym(sqlite, "sqlite3_enable_load_extension");
    int (*load)(sqlite3 *, const char *, const char *, char **) =
        (int (*)(sqlite3 *, const char *, const char *, char **)) dlsym(sqlite, "sqlite3_load_extension");
    exec_fn exec = (exec_fn) dlsym(sqlite, "sqlite3_exec");
    const char *(*version)(void) = (const char *(*)(void)) dlsym(sqlite, "sqlite3_libversion");
    if (!open || !enable || !load || !exec || !version) {
        return fail("dlsym sqlite", dlerror());
    }

    sqlite3 *db = 0;
    char *error = 0;
    if (open(argv[3], &db) != 0) {
        return fail("open", argv[3]);
    }
    if (exec(db, "PRAGMA journal_mode=WAL", 0, 0, &error) != 0) {
        return fail("wal mode", error);
    }
    enable(db, 1);
    if (load(db, argv[1], "sqlite3_walship_init", &error) != 0) {
        return fail("load_extension", error);
    }
    void *hook = dlopen(argv[1], RTLD_NOW);
    void (*set_callback)(void (*)(int64_t, int32_t)) =
        hook ? (void (*)(void (*)(int64_t, int32_t))) dlsym(hook, "walship_set_callback") : 0;
    if (!set_callback) {
        return fail("walship_set_callback", dlerror());
    }
    set_callback(on_commit);
    if (exec(db, "SELECT walship_attach(42)", 0, 0, &error) != 0) {
        return fail("walship_attach", error);
    }
    if (exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", 0, 0, &error) != 0) {
        return fail("write", error);
    }
    if (commits != 2 || last_token != 42 || last_frames < 2) {
        printf("FAILED callback: commits=%d token=%lld frames=%d\n", commits, (long long) last_token,
               (int) last_frames);
        return 1;
    }
    if (exec(db, "PRAGMA journal_mode=DELETE", 0, 0, &error) == 0) {
        return fail("authorizer", "leaving WAL mode was allowed");
    }
    if (exec(db, "SELECT load_extension('nothing')", 0, 0, &error) == 0 || !error) {
        return fail("extension loading", "still on after the hook loaded");
    }
    printf("ok commits=%d token=%lld frames=%d sqlite=%s\n", commits, (long long) last_token, (int) last_frames,
           version());
    return 0;
}
