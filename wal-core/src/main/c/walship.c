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
 * we want: walship decides when to checkpoint.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <stdint.h>
#include <string.h>

typedef void (*walship_commit_callback)(int64_t token, int32_t frames);

static walship_commit_callback commit_callback;

/* Called once from Java through JNA. */
void walship_set_callback(walship_commit_callback callback) {
    commit_callback = callback;
}

static int walship_wal_hook(void *context, sqlite3 *db, const char *schema, int frames) {
    (void) db;
    if (commit_callback != 0 && strcmp(schema, "main") == 0) {
        commit_callback((int64_t) (intptr_t) context, (int32_t) frames);
    }
    return SQLITE_OK;
}

static void walship_attach(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void) argc;
    sqlite3 *db = sqlite3_context_db_handle(context);
    sqlite3_int64 token = sqlite3_value_int64(argv[0]);
    sqlite3_wal_hook(db, walship_wal_hook, (void *) (intptr_t) token);
    sqlite3_result_int64(context, token);
}

static void walship_detach(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void) argc;
    (void) argv;
    sqlite3_wal_hook(sqlite3_context_db_handle(context), 0, 0);
    sqlite3_result_int(context, 1);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_walship_init(sqlite3 *db, char **error, const sqlite3_api_routines *api) {
    (void) error;
    SQLITE_EXTENSION_INIT2(api);
    int rc = sqlite3_create_function(db, "walship_attach", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, 0,
                                     walship_attach, 0, 0);
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
