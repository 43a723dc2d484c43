//! What a configuration runs ([`Workload`]: the work and, for SQL work, the run's database)
//! and what one worker thread holds to run it ([`Session`]: for SQL work, its connection).

use crate::work::Perform as _;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::Connection;

use super::Work;
use super::sql::Database;

/// The work of one run, with the database it needs, created before the run starts (outside
/// every window) and removed when the last clone is dropped.
///
/// Cloning is cheap for plain work (no reference count is touched), so handoffs that move
/// the workload into every call stay as cheap as when they moved the bare [`Work`].
#[derive(Debug, Clone)]
pub struct Workload {
    work: Work,
    database: Option<Arc<Database>>,
}

impl Workload {
    /// `work`, with a new database if it is SQL work.
    pub fn prepare(work: Work) -> Self {
        Self {
            work,
            database: work.is_sql().then(|| Arc::new(Database::create())),
        }
    }

    /// The work each call does.
    pub fn work(&self) -> Work {
        self.work
    }

    /// What a thread that serves calls holds: a new connection for SQL work.
    pub fn session(&self) -> Session {
        Session {
            work: self.work,
            connection: self.database.as_deref().map(Database::connect),
            calls: 0,
        }
    }

    /// Where a crate that opens its own connections opens them: the database file for SQL
    /// work; otherwise a private in-memory database (plain work never touches it).
    pub fn connection_target(&self) -> PathBuf {
        self.database_path()
            .map_or_else(|| PathBuf::from(":memory:"), Path::to_owned)
    }

    /// The database file, for SQL work.
    pub fn database_path(&self) -> Option<&Path> {
        self.database.as_deref().map(Database::path)
    }

    /// Runs call `input` on whichever thread this is (a runtime's pool thread): plain work
    /// directly; SQL work on this thread's own connection, opened at its first call and
    /// kept for the thread's life (a pool thread serves many calls, and opening a connection
    /// per call would measure the open, not the query).
    pub fn run_here(&self, input: u64) -> u64 {
        let Some(database) = self.database.as_deref() else {
            return self.work.run(input);
        };
        POOL_THREAD_SESSION.with_borrow_mut(|session| {
            // Pools outlive runs (async-std's and smol's are global): a connection opened for
            // an earlier run's database is replaced.
            let current = session
                .as_ref()
                .is_some_and(|(path, _)| path == database.path());
            if !current {
                *session = Some((database.path().to_owned(), self.session()));
            }
            let (_, session) = session.as_mut().expect("set just above");
            session.answer(input)
        })
    }
}

thread_local! {
    /// A pool thread's session for SQL work, with the database it belongs to.
    static POOL_THREAD_SESSION: RefCell<Option<(PathBuf, Session)>> = const { RefCell::new(None) };
}

/// One serving thread's state: the work, its connection for SQL work, and the calls it ran
/// (the mutable state a real worker keeps).
#[derive(Debug)]
pub struct Session {
    work: Work,
    connection: Option<Connection>,
    calls: u64,
}

impl Session {
    /// Runs call `input` and answers it.
    #[inline]
    pub fn answer(&mut self, input: u64) -> u64 {
        self.calls += 1;
        match &self.connection {
            Some(connection) => self.work.run_on(connection, input),
            None => self.work.run(input),
        }
    }

    /// The calls this session ran.
    pub fn calls(&self) -> u64 {
        self.calls
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::Query;

    fn total_hits(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("SELECT sum(hits) FROM items", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn plain_work_needs_no_database() {
        let workload = Workload::prepare(Work::Zero);
        assert!(workload.database_path().is_none());
        assert_eq!(workload.connection_target(), PathBuf::from(":memory:"));
        let mut session = workload.session();
        assert_eq!(session.answer(5), 7);
        assert_eq!(workload.run_here(40), 42);
        assert_eq!(session.calls(), 1);
    }

    #[test]
    fn sql_sessions_share_the_run_database_and_count_their_calls() {
        let workload = Workload::prepare(Work::Sql(Query::Write));
        let path = workload
            .database_path()
            .expect("SQL work has a database")
            .to_owned();
        assert!(path.exists());
        let (mut one, mut two) = (workload.session(), workload.session());
        assert_eq!(one.answer(1), 3);
        assert_eq!(two.answer(1), 3);
        assert_eq!(workload.run_here(1), 3);
        assert_eq!((one.calls(), two.calls()), (1, 1));
        let hits = total_hits(&path);
        assert_eq!(hits, 3, "three writes by three connections, all committed");
        drop((one, two));
        drop(workload);
        // The pool-thread session still holds a connection; the file is unlinked anyway.
        assert!(!path.exists());
    }

    #[test]
    fn a_pool_thread_reconnects_for_a_new_run() {
        let first = Workload::prepare(Work::Sql(Query::PointRead));
        assert_eq!(first.run_here(10), 12);
        let second = Workload::prepare(Work::Sql(Query::Write));
        assert_eq!(second.run_here(10), 12);
        let hits = total_hits(second.database_path().unwrap());
        assert_eq!(hits, 1, "the write went to the second run's database");
    }
}
