//! The SQL kinds of `--work` (`sql-read`, `sql-write`): real queries through a
//! `rusqlite::Connection` (bundled SQLite) on a database file created at set-up, outside
//! every window.
//!
//! The database is one table of [`ROWS`] rows in a file of its own temporary directory, in
//! WAL mode (what applications that share a database between connections use). Every
//! connection, ours and the real crates', is configured by [`configure`]: `synchronous =
//! NORMAL` (in WAL mode a commit then writes the log without an `fsync`; checkpoints still
//! sync) and a busy timeout, so writers on several connections wait for each other instead
//! of failing.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use handoff_protocol::work::Query;

use rusqlite::{Connection, params};

/// Rows in the benchmark's table; call `i` touches row `i % ROWS`.
pub const ROWS: u64 = 10_000;

/// How long a connection waits for another's write lock before it reports `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `query` for call `input` on `connection` and answers `input + 2`, computed from the
/// row it read: a wrong row or a lost write gives a wrong answer, which the caller checks.
///
/// # Panics
/// If SQLite reports an error (the database is the benchmark's own, so an error is a bug or
/// a broken machine, not an input to handle).
pub fn run(query: Query, connection: &Connection, input: u64) -> u64 {
    let id = input % ROWS;
    let value = match query {
        Query::PointRead => point_read(connection, id),
        Query::Write => write(connection, id),
    }
    .unwrap_or_else(|error| panic!("`{query}` of row {id}: {error}"));
    // The row holds `id + 2`; the answer restores the part of `input` the modulo removed.
    value.wrapping_add(input - id)
}

// SQLite's integers are i64; the table's ids and values fit (ids below `ROWS`, values
// `id + 2`).
fn point_read(connection: &Connection, id: u64) -> rusqlite::Result<u64> {
    connection
        .prepare_cached("SELECT value FROM items WHERE id = ?1")?
        .query_row(params![id.cast_signed()], |row| row.get(0))
        .map(i64::cast_unsigned)
}

fn write(connection: &Connection, id: u64) -> rusqlite::Result<u64> {
    connection.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let value = connection
        .prepare_cached("UPDATE items SET hits = hits + 1 WHERE id = ?1 RETURNING value")?
        .query_row(params![id.cast_signed()], |row| row.get(0))
        .map(i64::cast_unsigned);
    match value {
        Ok(value) => {
            connection.prepare_cached("COMMIT")?.execute([])?;
            Ok(value)
        }
        Err(error) => {
            let _ = connection.prepare_cached("ROLLBACK")?.execute([]);
            Err(error)
        }
    }
}

/// Gives `connection` the settings every connection of a run shares (module docs).
///
/// # Errors
/// What SQLite reports.
pub fn configure(connection: &Connection) -> rusqlite::Result<()> {
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.busy_timeout(BUSY_TIMEOUT)
}

/// The benchmark's database: a file in a temporary directory, removed when this is dropped.
#[derive(Debug)]
pub struct Database {
    path: PathBuf,
    _directory: tempfile::TempDir,
}

impl Database {
    /// Creates the table of [`ROWS`] rows (row `id` holds `id + 2`) in WAL mode, in a new
    /// directory under the system's temporary directory.
    ///
    /// # Panics
    /// If the directory or the database cannot be created, naming the path and the cause.
    pub fn create() -> Self {
        let directory = tempfile::Builder::new()
            .prefix("handoff-bench-")
            .tempdir()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot create the SQL work's directory in {}: {error}",
                    std::env::temp_dir().display()
                )
            });
        let path = directory.path().join("bench.sqlite3");
        fill(&path).unwrap_or_else(|error| {
            panic!(
                "cannot create the SQL work's database {}: {error}",
                path.display()
            )
        });
        Self {
            path,
            _directory: directory,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new connection to the database, configured like every other ([`configure`]).
    ///
    /// # Panics
    /// If SQLite cannot open the file.
    pub fn connect(&self) -> Connection {
        Connection::open(&self.path)
            .and_then(|connection| configure(&connection).map(|()| connection))
            .unwrap_or_else(|error| panic!("cannot open {}: {error}", self.path.display()))
    }
}

fn fill(path: &Path) -> rusqlite::Result<()> {
    let mut connection = Connection::open(path)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    let transaction = connection.transaction()?;
    transaction.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, value INTEGER NOT NULL, hits INTEGER NOT NULL)",
        [],
    )?;
    {
        let mut insert =
            transaction.prepare("INSERT INTO items (id, value, hits) VALUES (?1, ?2, 0)")?;
        for id in 0..ROWS.cast_signed() {
            insert.execute(params![id, id + 2])?;
        }
    }
    transaction.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_queries_answer_input_plus_two_from_the_row() {
        let database = Database::create();
        let connection = database.connect();
        for query in [Query::PointRead, Query::Write] {
            for input in [0, 5, ROWS - 1, ROWS, 3 * ROWS + 17] {
                assert_eq!(
                    run(query, &connection, input),
                    input + 2,
                    "{query} of {input}"
                );
            }
        }
    }

    #[test]
    fn every_write_commits_one_increment() {
        let database = Database::create();
        let connection = database.connect();
        for input in 0..50 {
            run(Query::Write, &connection, input % 7);
        }
        let hits: i64 = connection
            .query_row("SELECT sum(hits) FROM items", [], |row| row.get(0))
            .unwrap();
        assert_eq!(hits, 50);
        let row_three: i64 = connection
            .query_row("SELECT hits FROM items WHERE id = 3", [], |row| row.get(0))
            .unwrap();
        // Inputs 3, 10, ..., 45: seven of the fifty.
        assert_eq!(row_three, 7);
        assert!(connection.is_autocommit(), "no transaction left open");
    }

    #[test]
    fn the_database_is_in_wal_mode_and_removed_on_drop() {
        let database = Database::create();
        let mode: String = database
            .connect()
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let path = database.path().to_owned();
        assert!(path.exists());
        drop(database);
        assert!(!path.exists());
    }
}
