//! The platform's database: one code path over SQLite (the embedded
//! default) and PostgreSQL, through sqlx's `Any` driver.
//!
//! All SQL of the platform lives in this crate, behind functions named for
//! what they do; nothing else sees sqlx. Queries use `$1`-style parameters,
//! which both backends accept, always numbered in order. Each backend has
//! its own migrations (`host/store/migrations/<backend>/`), as column types differ.

pub mod accounts;
pub mod billing;
pub mod events;
pub mod installs;
pub mod kv;
pub mod limits;
pub mod notifications;
pub mod parties;
pub mod registry;
pub mod sessions;
pub mod usage;
pub mod wishlist;

use spleis_domain::DatabaseError;
use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Which database is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in a data directory.
    Sqlite,
    /// PostgreSQL (or a compatible engine).
    Postgres,
}

/// Why a database operation failed: sqlx's own failures, or what the
/// domain already names (corrupt data, an unknown URL, …).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A migration failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A failure the domain names.
    #[error(transparent)]
    Domain(#[from] DatabaseError),
}

impl StoreError {
    /// Stored data is not what it should be (a bug or tampering).
    pub fn corrupt(what: impl Into<String>) -> Self {
        DatabaseError::Corrupt(what.into()).into()
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(error)
    }
}

impl From<StoreError> for DatabaseError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Migrate(e) => DatabaseError::Migrate(Box::new(e)),
            StoreError::Database(e) => DatabaseError::Failed(Box::new(e)),
            StoreError::Domain(e) => e,
        }
    }
}

/// The domain's refusals carry a failed database as a [`DatabaseError`];
/// these let `?` lift the store's own error into each of them.
macro_rules! database_into {
    ($($refusal:ty),*) => {$(
        impl From<StoreError> for $refusal {
            fn from(error: StoreError) -> Self {
                DatabaseError::from(error).into()
            }
        }
    )*};
}
database_into!(
    spleis_domain::wishlist::WishlistError,
    spleis_domain::accounts::AccountError,
    spleis_domain::registry::RegistryError,
    spleis_domain::installs::InstallError,
    spleis_domain::billing::BillingError,
    spleis_domain::parties::PartyError,
    spleis_domain::notifications::WebhookError
);

/// A sqlx result seen as the store's: `query.await.db()?` reaches any of
/// the domain's refusals (whose crate cannot name sqlx).
pub(crate) trait Db<T> {
    /// The result with the store's error.
    fn db(self) -> Result<T, StoreError>;
}

impl<T> Db<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(StoreError::Database)
    }
}

/// The database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// How far the platform's clock runs from the wall clock, ms: zero but
/// for tests and demos that live through months in minutes (`spleis serve
/// --clock-offset-ms`), like a billing system's test clock.
static CLOCK_OFFSET_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Sets the platform's clock `offset_ms` from the wall clock (before it
/// serves: every date the platform writes is read through [`now_ms`]).
pub fn set_clock_offset_ms(offset_ms: i64) {
    CLOCK_OFFSET_MS.store(offset_ms, std::sync::atomic::Ordering::Relaxed);
}

/// Now, in unix milliseconds, on the platform's clock.
pub fn now_ms() -> i64 {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    wall.saturating_add(CLOCK_OFFSET_MS.load(std::sync::atomic::Ordering::Relaxed))
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and migrates.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DatabaseError::UnsupportedUrl(url.to_owned()).into());
        };
        let mut options = AnyPoolOptions::new();
        if backend == Backend::Sqlite {
            // One writer at a time is SQLite's nature; a small pool avoids
            // lock churn while WAL mode lets readers run alongside.
            options = options.max_connections(4).after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;")
                        .await?;
                    Ok(())
                })
            });
        } else {
            options = options.max_connections(16);
        }
        let pool = options.connect(url).await?;
        let store = Self { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    /// Opens (creating it if needed) the SQLite database in `dir`.
    pub async fn open_data_dir(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| DatabaseError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
        let path = dir.join("spleis.db");
        Self::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator.run(&self.pool).await.map_err(StoreError::Migrate)
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The `VALUES` list of a multi-row `INSERT`: `rows` tuples of `columns`
    /// parameters, numbered in order. SQLite gets anonymous `?` parameters:
    /// it finds a numbered one's name by a linear scan, which made binding a
    /// 700-parameter batch quadratic (the usage writer's main cost under
    /// load); PostgreSQL needs `$n`.
    pub(crate) fn values_list(&self, rows: usize, columns: usize) -> String {
        let mut sql = String::with_capacity(rows * columns * 5);
        for r in 0..rows {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..columns {
                if c > 0 {
                    sql.push_str(", ");
                }
                match self.backend {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => {
                        sql.push('$');
                        sql.push_str(&(r * columns + c + 1).to_string());
                    }
                }
            }
            sql.push(')');
        }
        sql
    }

    /// The row-locking suffix of a `SELECT` read inside a writing
    /// transaction: ` FOR UPDATE` on PostgreSQL; nothing on SQLite, where
    /// the transaction (`BEGIN IMMEDIATE`) is already the one writer.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// Begins a transaction that will write. On SQLite it takes the write
    /// lock at once (`BEGIN IMMEDIATE`, waiting up to the busy timeout):
    /// a deferred transaction that reads and then writes fails with
    /// "database is locked" when another writer committed in between,
    /// instead of waiting its turn.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }
}

/// Test stores on both backends, for this crate's tests and the platform's
/// (the `testing` feature).
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    use super::Store;

    /// What keeps a test store alive (its SQLite directory).
    pub type Guard = Option<tempfile::TempDir>;

    /// Closes the store's connections: every later query fails, as with a
    /// database that is down.
    pub async fn take_down(store: &Store) {
        store.pool.close().await;
    }

    /// Runs `sql` as is: for tests that tamper with stored rows.
    pub async fn execute(store: &Store, sql: &str) {
        sqlx::query(sql)
            .execute(&store.pool)
            .await
            .expect("the test's SQL runs");
    }

    /// The money lock held, as a close computing holds it, until
    /// [`MoneyLock::release`] (PostgreSQL; on SQLite a write transaction
    /// is the one writer anyway).
    pub async fn hold_money_lock(store: &Store) -> MoneyLock {
        let mut tx = store.begin_write().await.expect("a transaction begins");
        store.lock_money(&mut tx).await.expect("the money lock");
        MoneyLock(tx)
    }

    /// The money lock a test holds.
    pub struct MoneyLock(sqlx::Transaction<'static, sqlx::Any>);

    impl MoneyLock {
        /// Gives the lock up.
        pub async fn release(self) {
            self.0.rollback().await.expect("the lock is given up");
        }
    }

    /// Bulk usage for benchmarks, straight in SQL into the SQLite store in
    /// `dir`: `records` calls of `period` spread over `tenants` tenants
    /// (`t0`, `t1`, …), 100 plugins (`bench/p0`, …) and three operations, 2%
    /// failed, one in five reporting a unique `active-contract` key; then a
    /// WAL checkpoint, as a month of writes leaves the database.
    pub async fn bulk_usage(
        dir: &std::path::Path,
        period: spleis_billing::period::Period,
        records: u64,
        tenants: u64,
    ) -> Result<(), sqlx::Error> {
        use sqlx::Connection;
        // Bulk data, straight in SQL, in PK order, a million rows a statement.
        let url = format!("sqlite://{}", dir.join("spleis.db").display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await?;
        sqlx::query("PRAGMA synchronous = OFF")
            .execute(&mut conn)
            .await?;
        let per_tenant = records / tenants;
        let chunk = 1_000_000u64.min(records);
        let mut done = 0;
        while done < records {
            let end = (done + chunk).min(records);
            let mut tx = conn.begin().await?;
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $2) \
                 INSERT INTO usage_records (tenant, id, plugin, version, digest, operation, fuel, wall_time_us, \
                 peak_memory, outcome, units, idempotency_key, recorded_at, period) \
                 SELECT 't' || (i / $3), printf('%010d', i), 'bench/p' || (i % 100), '1.0.0', 'sha256:00', \
                 CASE i % 3 WHEN 0 THEN 'quote' WHEN 1 THEN 'list' ELSE 'get' END, 100000 + (i % 7919), 40, 1048576, \
                 CASE WHEN i % 50 = 7 THEN 'out-of-fuel' ELSE 'ok' END, '[]', NULL, $4 + (i % 86400000), $5 FROM n",
            )
            .bind(done as i64)
            .bind(end as i64)
            .bind(per_tenant as i64)
            .bind(period.start_ms())
            .bind(period.to_string())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 5 FROM n WHERE i + 5 < $2) \
                 INSERT INTO usage_units (tenant, id, period, plugin, metric, unit_key, quantity) \
                 SELECT 't' || (i / $3), printf('%010d', i), $4, 'bench/p' || (i % 100), 'active-contract', \
                 'C-' || (i % 97), 1 FROM n",
            )
            .bind(done as i64)
            .bind(end as i64)
            .bind(per_tenant as i64)
            .bind(period.to_string())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            done = end;
            eprintln!("generated {done} of {records} usage records");
        }
        // A month of writes goes through many WAL checkpoints; one bulk load
        // leaves it all in the WAL, which readers would wade through page by page.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await?;
        drop(conn);
        Ok(())
    }

    /// A fresh SQLite store in a temporary directory.
    pub async fn sqlite() -> (Store, Guard) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_data_dir(dir.path()).await.expect("store opens");
        (store, Some(dir))
    }

    /// A fresh PostgreSQL database on the server `SPLEIS_TEST_DATABASE_URL`
    /// names (scripts/test starts one). Without it: `None`, unless
    /// `SPLEIS_REQUIRE_POSTGRES` is set, which makes a missing server fail.
    pub async fn postgres() -> Option<(Store, Guard)> {
        let Ok(admin_url) = std::env::var("SPLEIS_TEST_DATABASE_URL") else {
            assert!(
                std::env::var_os("SPLEIS_REQUIRE_POSTGRES").is_none(),
                "SPLEIS_REQUIRE_POSTGRES is set but SPLEIS_TEST_DATABASE_URL is not"
            );
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = format!(
            "spleis_test_{}",
            &super::accounts::new_token().expect("random")[4..20]
        );
        let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .expect("the test PostgreSQL server answers");
        sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("creates a test database");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let store = Store::connect(&format!("{base}/{name}"))
            .await
            .expect("store opens");
        Some((store, None))
    }

    /// SQLite, and PostgreSQL when configured: the same tests run on both.
    pub async fn all() -> Vec<(Store, Guard)> {
        let mut stores = vec![sqlite().await];
        stores.extend(postgres().await);
        stores
    }
}
