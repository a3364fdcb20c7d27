/*
 * walship WAL hook: a SQLite loadable extension.
 *
 * Loaded with load_extension() into the SQLite copy that sqlite-jdbc already
 * runs, so every call below goes through that copy's sqlite3_api_routines:
 * this file never links a second SQLite.
 *
 * The same shared object is opened a second time by JNA (dlopen of the same
 * path returns the same handle), which is how Java installs the callback
 * through walship_set_callback().
 *
 * Per connection, Java runs  SELECT walship_attach(token)  and from then on
 * each commit of the "main" database calls  callback(token, nFrames)  on the
 * committing thread, where nFrames is the number of valid frames in the WAL.
 * Registering a WAL hook also replaces SQLite's auto-checkpoint, which is what
 * we want: walship decides when to checkpoint. Attaching also switches off the
 * checkpoint SQLite runs when the last connection closes: walship folds the WAL
 * into the database file only up to transactions already stored, so closing the
 * writer must leave unstored commits in the WAL for the next open to ship.
 *
 * No C library. Every routine used comes from SQLite's own API table, and the
 * headers used (stdint.h, stdarg.h through sqlite3.h) are the compiler's own, so
 * one source builds for Linux (glibc or musl), Windows and macOS without a
 * platform SDK: see build-natives.sh beside this file.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <stdint.h>

#ifdef _WIN32
#define WALSHIP_EXPORT __declspec(dllexport)
#else
#define WALSHIP_EXPORT __attribute__((visibility("default")))
#endif

typedef void (*walship_commit_callback)(int64_t token, int32_t frames);

static walship_commit_callback commit_callback;

/* Called once from Java through JNA. */
WALSHIP_EXPORT void walship_set_callback(walship_commit_callback callback) {
    commit_callback = callback;
}

static int walship_wal_hook(void *context, sqlite3 *db, const char *schema, int frames) {
    (void) db;
    if (commit_callback != 0 && sqlite3_stricmp(schema, "main") == 0) {
        commit_callback((int64_t) (intptr_t) context, (int32_t) frames);
    }
    return SQLITE_OK;
}

/*
 * Pragmas that would silently stop or bypass capture on the writer connection:
 * wal_autocheckpoint replaces the WAL hook (SQLite implements auto-checkpoint with it),
 * journal_mode can leave WAL mode, wal_checkpoint can restart the WAL behind walship's back.
 * The authorizer refuses them at prepare time with SQLITE_AUTH, unless walship itself runs
 * them between walship_internal(1) and walship_internal(0). Reading them (no argument) is fine.
 */
static int walship_authorizer(void *context, int action, const char *arg1, const char *arg2,
                              const char *schema, const char *trigger) {
    const int *internal_statements = (const int *) context; /* this connection's flag */
    (void) schema;
    (void) trigger;
    if (action != SQLITE_PRAGMA || *internal_statements || arg1 == 0) {
        return SQLITE_OK;
    }
    if (sqlite3_stricmp(arg1, "wal_checkpoint") == 0) {
        return SQLITE_DENY;
    }
    if (arg2 != 0 && (sqlite3_stricmp(arg1, "wal_autocheckpoint") == 0
                      || sqlite3_stricmp(arg1, "journal_mode") == 0
                      || sqlite3_stricmp(arg1, "locking_mode") == 0)) {
        return SQLITE_DENY;
    }
    return SQLITE_OK;
}

static void walship_internal(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void) argc;
    int *internal_statements = (int *) sqlite3_user_data(context);
    *internal_statements = sqlite3_value_int(argv[0]);
    sqlite3_result_int(context, *internal_statements);
}

static void walship_attach(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void) argc;
    sqlite3 *db = sqlite3_context_db_handle(context);
    sqlite3_int64 token = sqlite3_value_int64(argv[0]);
    if (sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *) 0) != SQLITE_OK) {
        sqlite3_result_error(context, "walship: cannot switch off the checkpoint on close", -1);
        return;
    }
    sqlite3_wal_hook(db, walship_wal_hook, (void *) (intptr_t) token);
    sqlite3_set_authorizer(db, walship_authorizer, sqlite3_user_data(context));
    sqlite3_result_int64(context, token);
}

static void walship_detach(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void) argc;
    (void) argv;
    sqlite3_wal_hook(sqlite3_context_db_handle(context), 0, 0);
    sqlite3_set_authorizer(sqlite3_context_db_handle(context), 0, 0);
    sqlite3_result_int(context, 1);
}

WALSHIP_EXPORT int sqlite3_walship_init(sqlite3 *db, char **error, const sqlite3_api_routines *api) {
    (void) error;
    SQLITE_EXTENSION_INIT2(api);
    /* One flag per connection, shared by walship_attach (the authorizer's context) and
     * walship_internal; freed by SQLite with the walship_internal function, when the connection closes. */
    int *internal_statements = sqlite3_malloc(sizeof(int));
    if (internal_statements == 0) {
        return SQLITE_NOMEM;
    }
    *internal_statements = 0;
    int rc = sqlite3_create_function_v2(db, "walship_internal", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                        internal_statements, walship_internal, 0, 0, sqlite3_free);
    if (rc == SQLITE_OK) {
        rc = sqlite3_create_function(db, "walship_attach", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                     internal_statements, walship_attach, 0, 0);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_create_function(db, "walship_detach", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, 0,
                                     walship_detach, 0, 0);
    }
    /* Extension loading was switched on only to load us: switch it off again.
     * (sqlite3_enable_load_extension is withheld from extensions; this flag is the one
     * sqlite3_load_extension checks, for the SQL function too.) */
    if (rc == SQLITE_OK) {
        rc = sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *) 0);
    }
    return rc;
}

#ifdef _WIN32
/* Without the C runtime a DLL needs its own entry point; there is nothing to set up. */
int __stdcall DllMainCRTStartup(void *module, unsigned long reason, void *reserved) {
    (void) module;
    (void) reason;
    (void) reserved;
    return 1;
}
#endif
