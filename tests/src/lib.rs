//! Helpers for the end-to-end tests: the example plugins built for
//! wasm32-wasip2, and the `spleis` binary.

pub mod demo;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository root")
        .to_path_buf()
}

/// Builds every example plugin (once per test process; cargo makes
/// concurrent builds from other test processes wait) and returns the
/// directory holding the `.wasm` files.
pub fn plugins_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = repo_root();
        let target = root.join("example-plugins").join("target");
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(root.join("example-plugins").join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the example plugins failed");
        target.join("wasm32-wasip2").join("release")
    })
}

/// The bytes of the example plugin `name` (its crate name with `_`).
pub fn plugin(name: &str) -> Vec<u8> {
    let path = plugins_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The path of the example plugin `name`.
pub fn plugin_path(name: &str) -> PathBuf {
    plugins_dir().join(format!("{name}.wasm"))
}

/// The `spleis` binary, built if the test run did not build it already.
pub fn spleis_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // Test executables live in target/<profile>/deps; the binary one up.
        let exe = std::env::current_exe().expect("the test knows its path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binaries sit in target/<profile>/deps");
        let bin = profile_dir.join(format!("spleis{}", std::env::consts::EXE_SUFFIX));
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "spleis", "--bin", "spleis"])
            .current_dir(repo_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the spleis binary failed");
        assert!(bin.exists(), "no binary at {}", bin.display());
        bin
    })
}

/// Runs `spleis` with `args`; returns (exit code, stdout, stderr).
pub fn spleis(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(spleis_bin())
        .args(args)
        .output()
        .expect("spleis runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `spleis run ... --json` and parses its document.
pub fn spleis_run_json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.push("--json");
    let (code, stdout, stderr) = spleis(&all);
    let doc = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("spleis run printed no JSON ({e}); stderr: {stderr}"));
    (code, doc)
}

/// A `spleis serve` process on a free loopback port, killed on drop.
pub struct Server {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The operator's token.
    pub operator: String,
    /// The database URL, when not SQLite in the data directory.
    pub database_url: Option<String>,
    _data: tempfile::TempDir,
}

/// The bootstrap operator token the test servers use.
pub const OPERATOR_TOKEN: &str = "spl_test_operator";

impl Server {
    /// Starts a server on SQLite in a fresh data directory, or on the
    /// database `database_url` names.
    pub fn start(database_url: Option<&str>) -> Self {
        Self::start_in(tempfile::tempdir().expect("tempdir"), database_url, &[])
    }

    /// Starts a server on SQLite with extra `spleis serve` arguments.
    pub fn start_with(args: &[&str]) -> Self {
        Self::start_in(tempfile::tempdir().expect("tempdir"), None, args)
    }

    /// Starts a server on the database `database_url` names (a node of a
    /// cluster) with extra `spleis serve` arguments.
    pub fn start_on(database_url: &str, args: &[&str]) -> Self {
        Self::start_in(
            tempfile::tempdir().expect("tempdir"),
            Some(database_url),
            args,
        )
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's data directory (SQLite database, compile cache).
    pub fn data_dir(&self) -> &Path {
        self._data.path()
    }

    /// Stops the server (SIGTERM) and starts a new process on the same data.
    pub fn restart(self) -> Self {
        self.restart_with(&[])
    }

    /// Stops the server and starts a new process on the same data with
    /// other `spleis serve` arguments (a clock moved on, say).
    pub fn restart_with(mut self, args: &[&str]) -> Self {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let data = std::mem::replace(&mut self._data, tempfile::tempdir().expect("tempdir"));
        let database_url = self.database_url.take();
        Self::start_in(data, database_url.as_deref(), args)
    }

    fn start_in(data: tempfile::TempDir, database_url: Option<&str>, args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut command = Command::new(spleis_bin());
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .args(args)
            .env("SPLEIS_BOOTSTRAP_TOKEN", OPERATOR_TOKEN)
            .stdout(std::process::Stdio::piped());
        if let Some(url) = database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command.spawn().expect("spleis serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("spleis serve printed its address")
                .expect("readable stdout");
            if let Some(rest) = line.strip_prefix("spleis is listening on ") {
                break rest.trim().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            url,
            operator: OPERATOR_TOKEN.to_owned(),
            database_url: database_url.map(str::to_owned),
            _data: data,
        }
    }

    /// Sends `method path` with `token` and an optional JSON body; returns
    /// (status, JSON body or Null).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (status, body, _) = self.request_with_headers(method, path, token, body);
        (status, body)
    }

    /// Like [`Server::request`], with the answer's `Retry-After` header.
    pub fn request_with_headers(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value, Option<String>) {
        let request = ureq::request(method, &format!("{}{path}", self.url))
            .set("Authorization", &format!("Bearer {token}"));
        let result = match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let retry_after = response.header("retry-after").map(str::to_owned);
        let text = response.into_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            retry_after,
        )
    }

    /// GETs `path` as text; returns (status, content type, body).
    pub fn get_text(&self, path: &str, token: &str) -> (u16, String, String) {
        let result = ureq::get(&format!("{}{path}", self.url))
            .set("Authorization", &format!("Bearer {token}"))
            .call();
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("GET {path}: {e}"),
        };
        let status = response.status();
        let content_type = response.content_type().to_owned();
        (
            status,
            content_type,
            response.into_string().unwrap_or_default(),
        )
    }

    /// GETs `path`; returns (status, the answer's headers named `names`, in
    /// order, body).
    pub fn get_with_headers(
        &self,
        path: &str,
        token: &str,
        names: &[&str],
    ) -> (u16, Vec<Option<String>>, String) {
        let result = ureq::get(&format!("{}{path}", self.url))
            .set("Authorization", &format!("Bearer {token}"))
            .call();
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("GET {path}: {e}"),
        };
        let status = response.status();
        let headers = names
            .iter()
            .map(|name| response.header(name).map(str::to_owned))
            .collect();
        (status, headers, response.into_string().unwrap_or_default())
    }

    /// Calls a plugin operation with an `Idempotency-Key`; returns (status,
    /// the `spleis-replayed` header, body).
    pub fn call_with_key(
        &self,
        token: &str,
        package: &str,
        operation: &str,
        body: &serde_json::Value,
        key: &str,
    ) -> (u16, String, serde_json::Value) {
        let result = ureq::post(&format!("{}/v1/plugins/{package}/{operation}", self.url))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Idempotency-Key", key)
            .send_json(body.clone());
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{package}/{operation}: {e}"),
        };
        let status = response.status();
        let replayed = response.header("spleis-replayed").unwrap_or("").to_owned();
        let text = response.into_string().unwrap_or_default();
        (
            status,
            replayed,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Sends a raw body to a plugin operation.
    pub fn call(
        &self,
        token: &str,
        package: &str,
        operation: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.request(
            "POST",
            &format!("/v1/plugins/{package}/{operation}"),
            token,
            Some(body.clone()),
        )
    }

    /// Creates an account; returns its token.
    pub fn account(&self, id: &str, role: &str) -> String {
        let (status, body) = self.request(
            "POST",
            "/v1/accounts",
            &self.operator.clone(),
            Some(serde_json::json!({"id": id, "role": role})),
        );
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// Publishes an example plugin's component.
    pub fn publish(&self, token: &str, plugin_name: &str) -> (u16, serde_json::Value) {
        self.publish_bytes(token, &plugin(plugin_name))
    }

    /// Publishes a component.
    pub fn publish_bytes(&self, token: &str, bytes: &[u8]) -> (u16, serde_json::Value) {
        use base64::Engine;
        let component = base64::engine::general_purpose::STANDARD.encode(bytes);
        self.request(
            "POST",
            "/v1/packages",
            token,
            Some(serde_json::json!({"component": component})),
        )
    }

    /// Stops the server with SIGTERM and waits; returns whether it exited cleanly.
    pub fn stop(mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh PostgreSQL database for one server, if the suite has a server.
pub fn postgres_database() -> Option<String> {
    let admin = std::env::var("SPLEIS_TEST_DATABASE_URL").ok()?;
    let name = format!(
        "spleis_e2e_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let status = Command::new("psql")
        .args([
            admin.as_str(),
            "-q",
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .status()
        .expect("psql runs");
    assert!(status.success(), "cannot create the test database");
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(b, _)| b)
        .to_owned();
    Some(format!("{base}/{name}"))
}

/// The databases every server test runs on: SQLite (`None`), and a fresh
/// PostgreSQL database when the suite has a server.
pub fn backends() -> Vec<Option<String>> {
    let mut all = vec![None];
    all.extend(postgres_if_any().map(Some));
    all
}

/// A fresh PostgreSQL database, or `None` when the suite has no server,
/// which fails the test where `SPLEIS_REQUIRE_POSTGRES` is set (CI).
pub fn postgres_if_any() -> Option<String> {
    let url = postgres_database();
    assert!(
        url.is_some() || std::env::var_os("SPLEIS_REQUIRE_POSTGRES").is_none(),
        "PostgreSQL is required here"
    );
    url
}

/// The `--clock-offset-ms` that puts a server's clock at noon (UTC) on the
/// 15th of the month `back` months before this one, and that month.
pub fn clock_in_month_before(back: u32) -> (String, i64) {
    let month = month_before(back);
    let out = Command::new("date")
        .args(["-u", "-d", &format!("{month}-15 12:00"), "+%s"])
        .output()
        .expect("date runs");
    let target: i64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse::<i64>()
        .expect("seconds")
        * 1000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    (month, target - now)
}

/// `YYYY-MM`, `back` months before this one (UTC).
pub fn month_before(back: u32) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("-{back} month -5 days"), "+%Y-%m"])
        .output()
        .expect("date runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `n` usage records of tenant `bulk` in `period`, written by SQL into the
/// PostgreSQL database `url` (a large month to close, in seconds).
pub fn bulk_usage(url: &str, period: &str, n: u64) {
    let sql = format!(
        "INSERT INTO usage_records (tenant, id, plugin, version, digest, operation, fuel, wall_time_us, \
         host_time_us, peak_memory, outcome, units, idempotency_key, recorded_at, period) \
         SELECT 'bulk', '{period}-' || g, 'fixtures/hostile', '0.1.0', 'sha256:00', 'echo', 1000, 10, 0, 1, \
         'ok', '[]', NULL, EXTRACT(EPOCH FROM to_date('{period}-10', 'YYYY-MM-DD')) * 1000, '{period}' \
         FROM generate_series(1, {n}) g"
    );
    let status = Command::new("psql")
        .args([url, "-q", "-c", &sql])
        .status()
        .expect("psql runs");
    assert!(status.success(), "bulk insert failed");
}

/// Usage records of `tenant` in the PostgreSQL database `url`.
pub fn usage_records_of(url: &str, tenant: &str) -> u64 {
    let out = Command::new("psql")
        .args([
            url,
            "-At",
            "-c",
            &format!("SELECT COUNT(*) FROM usage_records WHERE tenant = '{tenant}'"),
        ])
        .output()
        .expect("psql runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a count")
}

/// The hostile fixture whose start blocks on a pollable for `start_ns`
/// nanoseconds (`u64::MAX`: for ever; each value makes different bytes).
pub fn blocking_start(start_ns: u64) -> Vec<u8> {
    let path = repo_root().join("tests/fixtures/blocking_start.wat");
    let text = std::fs::read_to_string(&path).expect("the fixture is there");
    // `i64.const` takes the bit pattern: u64::MAX is -1.
    let text = text.replace("$START_NS", &(start_ns as i64).to_string());
    wat::parse_str(&text).expect("the fixture parses")
}

/// The `answer` fixture: a component whose `handle` returns the result at
/// `ptr` (the bytes `data`, WAT string escapes, at offset 16), with a memory
/// image of `image_bytes` bytes at 64 KiB (0: none).
pub fn answer(ptr: &str, data: &str, image_bytes: usize) -> Vec<u8> {
    let path = repo_root().join("tests/fixtures/answer.wat");
    let text = std::fs::read_to_string(&path).expect("the fixture is there");
    let pages = 1 + image_bytes.div_ceil(65536);
    let text = text
        .replace("$PTR", ptr)
        .replace("$DATA", data)
        .replace("$PAGES", &pages.to_string())
        .replace("$IMAGE", &"x".repeat(image_bytes));
    wat::parse_str(&text).expect("the fixture parses")
}

/// Builds a small plugin `fixtures/versioned` at `version`, declaring
/// `capabilities`; operation `version` answers its version. Fixtures share a
/// target directory, so only the first build compiles the dependencies.
pub fn versioned_fixture(version: &str, capabilities: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let sdk = repo_root().join("sdk");
    let caps: Vec<String> = capabilities.iter().map(|c| format!("\"{c}\"")).collect();
    std::fs::create_dir_all(dir.path().join("src")).expect("src dir");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!(
            r#"[package]
name = "versioned"
version = "{version}"
edition = "2024"

[workspace]

[lib]
crate-type = ["cdylib"]

[dependencies]
spleis-sdk = {{ path = "{sdk}" }}

[package.metadata.spleis]
name = "fixtures/versioned"
capabilities = [{caps}]
operations = ["version"]
"#,
            sdk = sdk.display(),
            caps = caps.join(", ")
        ),
    )
    .expect("Cargo.toml");
    std::fs::write(
        dir.path().join("src").join("lib.rs"),
        r#"use spleis_sdk::{Error, Plugin, Request, Response, storage};
struct Versioned;
impl Plugin for Versioned {
    fn handle(request: Request) -> Result<Response, Error> {
        match request.operation() {
            "version" => {
                storage::set("last-version", env!("CARGO_PKG_VERSION").as_bytes())?;
                Response::json(env!("CARGO_PKG_VERSION"))
            }
            other => Err(Error::unknown_operation(other)),
        }
    }
}
spleis_sdk::export_plugin!(Versioned);
"#,
    )
    .expect("lib.rs");
    let target = repo_root()
        .join("example-plugins")
        .join("target")
        .join("fixtures");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target)
        .current_dir(dir.path())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the versioned fixture failed");
    std::fs::read(
        target
            .join("wasm32-wasip2")
            .join("release")
            .join("versioned.wasm"),
    )
    .expect("the fixture")
}
