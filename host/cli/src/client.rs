//! The CLI as a client of a spleis server: `login`, `publish`, `catalog`,
//! `install`, `upgrade`, `uninstall`, `call`, `emit`, `usage`.
//!
//! The server and token come from `--server`/`--token`, else the
//! environment (`SPLEIS_SERVER`, `SPLEIS_TOKEN`), else the file `spleis login`
//! writes (`$XDG_CONFIG_HOME/spleis/credentials.toml`, mode 0600).

use anyhow::{Context, bail};
use base64::Engine;
use clap::{Args, Subcommand};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spleis_platform::accounts::TokenCreated;
use spleis_platform::limits::{LimitOverrides, LimitsView};
use spleis_registry::Capability;
use spleis_server::types::{self, Account, ErrorBody};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

/// Where and as whom.
#[derive(Args, Clone)]
pub struct Connection {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "SPLEIS_SERVER", global = true)]
    server: Option<String>,
    /// The API token.
    #[arg(long, env = "SPLEIS_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// Print the server's JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
}

/// Client commands.
#[derive(Subcommand)]
pub enum ClientCommand {
    /// Check a token against a server and save both for later commands.
    Login,
    /// Build the plugin crate here (or take a .wasm) and publish it.
    Publish {
        /// A plugin crate directory or a .wasm file (default: here).
        #[arg(default_value = ".")]
        path: PathBuf,
    },
    /// List or search the catalog.
    Catalog {
        /// Words to search for.
        query: Option<String>,
    },
    /// Install a package: `namespace/name[@requirement]`.
    Install {
        /// `namespace/name` or `namespace/name@^1.2`.
        package: String,
        /// Grant a capability (repeatable); default: all the plugin declares.
        #[arg(long = "grant")]
        grants: Vec<Capability>,
        /// A setting, KEY=VALUE (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE")]
        config: Vec<String>,
    },
    /// Upgrade an install (optionally to a new requirement, `=x.y.z` pins).
    Upgrade {
        /// `namespace/name`.
        package: String,
        /// A new requirement.
        #[arg(long)]
        requirement: Option<String>,
        /// Grant more capabilities.
        #[arg(long = "grant")]
        grants: Vec<Capability>,
    },
    /// Uninstall a package.
    Uninstall {
        /// `namespace/name`.
        package: String,
        /// Delete its stored data now instead of after the retention period.
        #[arg(long)]
        purge: bool,
    },
    /// Call an operation: `namespace/name operation`.
    Call {
        /// `namespace/name`.
        package: String,
        /// The operation.
        operation: String,
        /// JSON input, or @FILE.
        #[arg(long, default_value = "{}")]
        input: String,
        /// An Idempotency-Key: a retry with the same key is billed once.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Send a platform event of your tenant.
    Emit {
        /// The topic, e.g. member.joined.
        topic: String,
        /// JSON payload, or @FILE.
        #[arg(long, default_value = "{}")]
        payload: String,
    },
    /// Show your limits and what you use of them now; the operator names a
    /// tenant with --tenant, and replaces its overrides with --set.
    Limits {
        /// The tenant (operator only).
        #[arg(long)]
        tenant: Option<String>,
        /// Replace the tenant's overrides with the values given here; a
        /// value left out takes the server's default.
        #[arg(long, requires = "tenant")]
        set: bool,
        /// Calls running at once.
        #[arg(long, requires = "set")]
        concurrency: Option<u32>,
        /// Calls per second, sustained.
        #[arg(long, requires = "set")]
        rate_per_second: Option<u32>,
        /// Calls at once above the rate.
        #[arg(long, requires = "set")]
        burst: Option<u32>,
        /// Bytes of storage each install may keep.
        #[arg(long, requires = "set")]
        storage_quota_bytes: Option<u64>,
        /// Event deliveries one call or platform event may cause in all.
        #[arg(long, requires = "set")]
        fan_out: Option<u32>,
    },
    /// Your API tokens (the operator: any account's, with --account).
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Show your usage records.
    Usage {
        /// How many, newest first.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

/// `spleis client tokens …`.
#[derive(Subcommand)]
pub enum TokensCommand {
    /// List tokens (never their secrets).
    List {
        /// Another account's (operator only).
        #[arg(long)]
        account: Option<String>,
    },
    /// Create a named token; it is printed once.
    Create {
        /// A name for people.
        label: String,
        /// Days until it stops working (default: never).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
        /// For another account (operator only).
        #[arg(long)]
        account: Option<String>,
    },
    /// Revoke a token by its id (from `list`).
    Revoke {
        /// The token's id.
        id: String,
        /// Another account's (operator only).
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Serialize, Deserialize)]
struct Credentials {
    server: String,
    token: String,
}

fn credentials_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("spleis").join("credentials.toml"))
}

fn saved() -> Option<Credentials> {
    let text = std::fs::read_to_string(credentials_path()?).ok()?;
    toml::from_str(&text).ok()
}

pub(super) struct Client {
    server: String,
    token: String,
    json: bool,
}

/// A decoded answer and the JSON it came from, which `--json` prints as the
/// server sent it.
pub(super) struct Reply<T> {
    /// The answer, decoded.
    pub(super) body: T,
    /// The answer as the server sent it.
    json: Value,
}

impl<T> Reply<T> {
    /// The server's JSON (pretty) with `--json`, else `text` of the answer.
    pub(super) fn render(
        &self,
        client: &Client,
        text: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<String> {
        if client.json {
            Ok(serde_json::to_string_pretty(&self.json)?)
        } else {
            Ok(text(&self.body))
        }
    }

    /// Prints what [`Reply::render`] makes.
    pub(super) fn print(
        &self,
        client: &Client,
        text: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<()> {
        println!("{}", self.render(client, text)?);
        Ok(())
    }
}

impl Client {
    pub(super) fn new(connection: &Connection) -> anyhow::Result<Self> {
        let saved = saved();
        let server = connection
            .server
            .clone()
            .or_else(|| saved.as_ref().map(|s| s.server.clone()))
            .context("no server: pass --server URL, set SPLEIS_SERVER, or run `spleis login`")?;
        let token = connection
            .token
            .clone()
            .or_else(|| saved.as_ref().map(|s| s.token.clone()))
            .context("no token: pass --token, set SPLEIS_TOKEN, or run `spleis login`")?;
        Ok(Self {
            server: server.trim_end_matches('/').to_owned(),
            token,
            json: connection.json,
        })
    }

    /// Sends a request and decodes its typed answer. An answer that is not
    /// JSON, or not the JSON of `T`, is an error naming the request and the
    /// field (`packages[0].latest: invalid type …`).
    pub(super) fn request<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> anyhow::Result<Reply<T>> {
        let body = body
            .map(serde_json::to_value)
            .transpose()
            .context("cannot encode the request")?;
        let text = self.send_text(method, path, body)?;
        let json: Value = serde_json::from_str(&text)
            .with_context(|| format!("the answer to {method} {path} is not JSON: {text}"))?;
        let body = decode(&json).with_context(|| format!("the answer to {method} {path}"))?;
        Ok(Reply { body, json })
    }

    /// `GET path`, decoded.
    pub(super) fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<Reply<T>> {
        self.request(method::GET, path, None::<&()>)
    }

    /// `method path` with a JSON body, decoded.
    pub(super) fn send<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<Reply<T>> {
        self.request(method, path, Some(body))
    }

    /// `POST path` with a JSON body, decoded.
    pub(super) fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<Reply<T>> {
        self.request(method::POST, path, Some(body))
    }

    /// Sends a request whose success has no body (204).
    pub(super) fn send_empty(&self, method: &str, path: &str) -> anyhow::Result<()> {
        let text = self.send_text(method, path, None)?;
        if !text.trim().is_empty() {
            bail!("{method} {path} answered a body where none was expected: {text}");
        }
        Ok(())
    }

    /// Sends a request and returns the answer's text (CSV, HTML, JSON); a
    /// non-2xx answer becomes an error with the server's message.
    pub(super) fn send_text(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<String> {
        let request = ureq::request(method, &format!("{}{path}", self.server))
            .set("Authorization", &format!("Bearer {}", self.token))
            .timeout(Duration::from_secs(300));
        let result = match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        };
        match result {
            Ok(response) => response
                .into_string()
                .with_context(|| format!("cannot read the answer to {method} {path}")),
            Err(ureq::Error::Status(status, response)) => Err(refusal(status, response)),
            Err(error) => bail!("cannot reach {}: {error}", self.server),
        }
    }

    /// Prints the server's JSON with `--json`, else `text` of it.
    pub(super) fn print<T: Serialize>(
        &self,
        value: &T,
        text: impl FnOnce(&T) -> String,
    ) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            println!("{}", text(value));
        }
        Ok(())
    }
}

/// The HTTP methods the client sends.
mod method {
    pub(super) const GET: &str = "GET";
    pub(super) const POST: &str = "POST";
    pub(super) const DELETE: &str = "DELETE";
}

/// A non-2xx answer as an error: the server's `{"error": {code, message}}`,
/// or the status and text of an answer without one.
fn refusal(status: u16, response: ureq::Response) -> anyhow::Error {
    let text = response.into_string().unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(ErrorBody { error }) => {
            anyhow::anyhow!("{} ({}, HTTP {status})", error.message, error.code)
        }
        Err(_) => anyhow::anyhow!("HTTP {status}: {text}"),
    }
}

/// Decodes an answer as `T`; the error names the field that does not fit
/// (`packages[0].latest: invalid type: …`).
fn decode<T: DeserializeOwned>(json: &Value) -> anyhow::Result<T> {
    serde_path_to_error::deserialize(json)
        .map_err(|e| anyhow::anyhow!("cannot decode `{}`: {}", e.path(), e.inner()))
}

/// One line per item, or `empty` when there is none.
pub(crate) fn list<T>(items: &[T], empty: &str, line: impl Fn(&T) -> String) -> String {
    if items.is_empty() {
        empty.to_owned()
    } else {
        items.iter().map(line).collect::<Vec<_>>().join("\n")
    }
}

/// A JSON argument, inline or `@FILE`.
pub(super) fn read_json(input: &str) -> anyhow::Result<Value> {
    let text = match input.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?
        }
        None => input.to_owned(),
    };
    serde_json::from_str(&text).with_context(|| format!("`{input}` is not valid JSON"))
}

/// `--config KEY=VALUE` pairs as an install's settings.
fn settings(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("--config `{pair}` is not KEY=VALUE"))
        })
        .collect()
}

fn spinner(message: String) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Builds the crate at `dir` for wasm32-wasip2; returns the .wasm and the
/// Cargo.toml text (the manifest).
fn build(dir: &Path) -> anyhow::Result<(PathBuf, String)> {
    let cargo_toml = dir.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&cargo_toml).with_context(|| {
        format!(
            "{} is neither a plugin crate nor a .wasm file",
            dir.display()
        )
    })?;
    let doc: toml::Table = manifest.parse().context("Cargo.toml is not valid TOML")?;
    let crate_name = doc
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .context("Cargo.toml has no [package] name")?
        .replace('-', "_");
    let bar = spinner(format!("building {crate_name} for wasm32-wasip2"));
    let output = Command::new("cargo")
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format",
            "json-render-diagnostics",
        ])
        .current_dir(dir)
        .output()
        .context("cannot run cargo")?;
    bar.finish_and_clear();
    if !output.status.success() {
        bail!(
            "the build failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // Cargo names the artifact it wrote; the target directory may be a
    // workspace's, so take its word rather than guess.
    let wasm = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact" && m["target"]["name"] == crate_name.as_str()
        })
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        .context("cargo built no .wasm: is crate-type = [\"cdylib\"] set?")?;
    Ok((wasm, manifest))
}

pub fn run(command: ClientCommand, connection: Connection) -> anyhow::Result<ExitCode> {
    let client = Client::new(&connection)?;
    match command {
        ClientCommand::Login => login(&client)?,
        ClientCommand::Publish { path } => publish(&client, &path)?,
        ClientCommand::Catalog { query } => catalog(&client, query.as_deref())?,
        ClientCommand::Install {
            package,
            grants,
            config,
        } => install(&client, &package, grants, &config)?,
        ClientCommand::Upgrade {
            package,
            requirement,
            grants,
        } => upgrade(&client, &package, requirement, grants)?,
        ClientCommand::Uninstall { package, purge } => uninstall(&client, &package, purge)?,
        ClientCommand::Call {
            package,
            operation,
            input,
            idempotency_key,
        } => return call(&client, &package, &operation, &input, idempotency_key),
        ClientCommand::Emit { topic, payload } => emit(&client, topic, &payload)?,
        ClientCommand::Usage { limit } => usage(&client, limit)?,
        ClientCommand::Tokens(command) => tokens(&client, command)?,
        ClientCommand::Limits {
            tenant,
            set,
            concurrency,
            rate_per_second,
            burst,
            storage_quota_bytes,
            fan_out,
        } => {
            let overrides = set.then_some(LimitOverrides {
                concurrency,
                rate_per_second,
                burst,
                storage_quota_bytes,
                fan_out,
            });
            limits(&client, tenant.as_deref(), overrides)?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `spleis login`: checks the token and saves it with the server.
fn login(client: &Client) -> anyhow::Result<()> {
    let who: Account = client.get("/v1/whoami")?.body;
    let path = credentials_path().context("no HOME or XDG_CONFIG_HOME to save credentials in")?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = toml::to_string(&Credentials {
        server: client.server.clone(),
        token: client.token.clone(),
    })?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    println!(
        "logged in to {} as \"{}\" (\"{}\"); saved to {}",
        client.server,
        who.id,
        who.role,
        path.display()
    );
    Ok(())
}

/// `spleis publish`: builds the crate (or takes a .wasm) and uploads it.
fn publish(client: &Client, path: &Path) -> anyhow::Result<()> {
    let (wasm, manifest) = if path.extension().is_some_and(|e| e == "wasm") {
        (path.to_path_buf(), None)
    } else {
        let (wasm, manifest) = build(path)?;
        (wasm, Some(manifest))
    };
    let bytes = std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
    let bar = spinner(format!(
        "uploading {} ({} KiB)",
        wasm.display(),
        bytes.len() / 1024
    ));
    let body = types::Publish {
        component: base64::engine::general_purpose::STANDARD.encode(&bytes),
        manifest,
    };
    let result = client.post::<types::Published>("/v1/packages", &body);
    bar.finish_and_clear();
    result?.print(client, |p| {
        let state = if p.created {
            "published"
        } else {
            "already published (same bytes)"
        };
        format!(
            "{}@{} {state}\n  digest: {}\n  upgraded installs: {}\n  pending (need new grants): {}",
            p.version.package,
            p.version.version,
            p.version.digest,
            p.upgrades.upgraded.len(),
            p.upgrades.pending.len(),
        )
    })
}

/// `spleis catalog`: the packages, optionally searched.
fn catalog(client: &Client, query: Option<&str>) -> anyhow::Result<()> {
    let path = match query {
        Some(q) => format!("/v1/packages?q={}", q.replace(' ', "%20")),
        None => "/v1/packages".to_owned(),
    };
    let catalog = client.get::<types::Catalog>(&path)?;
    catalog.print(client, |c| {
        list(&c.packages, "no packages", |p| {
            format!(
                "{:<32} {:<10} {}",
                p.name,
                p.latest.as_deref().unwrap_or("-"),
                p.description
            )
        })
    })
}

/// `spleis install namespace/name[@requirement]`: without `--grant`, grants
/// what the newest version declares (the server still refuses anything
/// short of what the resolved version needs).
fn install(
    client: &Client,
    package: &str,
    grants: Vec<Capability>,
    config: &[String],
) -> anyhow::Result<()> {
    let (name, requirement) = package.split_once('@').unwrap_or((package, "*"));
    let grants: BTreeSet<Capability> = if grants.is_empty() {
        let detail = client.get::<types::PackageDetail>(&format!("/v1/packages/{name}"))?;
        detail
            .body
            .versions
            .last()
            .map(|v| v.manifest.capabilities.clone())
            .unwrap_or_default()
    } else {
        grants.into_iter().collect()
    };
    let body = types::NewInstall {
        package: name.to_owned(),
        requirement: Some(requirement.to_owned()),
        grants,
        config: settings(config)?,
        storage_quota_bytes: None,
    };
    let install = client.post::<types::InstallRecord>("/v1/installs", &body)?;
    install.print(client, |i| {
        format!(
            "installed {}@{} (requirement {}, grants: {})",
            i.package,
            i.version,
            i.requirement,
            json_text(&i.grants)
        )
    })
}

/// `spleis upgrade`: a new requirement and more grants, both optional.
fn upgrade(
    client: &Client,
    package: &str,
    requirement: Option<String>,
    grants: Vec<Capability>,
) -> anyhow::Result<()> {
    let body = types::Upgrade {
        requirement,
        grants: grants.into_iter().collect(),
    };
    let install =
        client.post::<types::InstallRecord>(&format!("/v1/installs/{package}/upgrade"), &body)?;
    install.print(client, |i| {
        format!(
            "{} now runs {} (requirement {})",
            i.package, i.version, i.requirement
        )
    })
}

/// `spleis uninstall`.
fn uninstall(client: &Client, package: &str, purge: bool) -> anyhow::Result<()> {
    client.send_empty(
        method::DELETE,
        &format!("/v1/installs/{package}?purge={purge}"),
    )?;
    let note = if purge {
        "its data was deleted"
    } else {
        "its data is kept for the retention period"
    };
    client.print(&json!({"uninstalled": package, "purged": purge}), |_| {
        format!("uninstalled {package}; {note}")
    })
}

/// `spleis call`: prints the plugin's answer as it came (JSON pretty, else
/// as a string) and the usage headers on stderr; a failed call exits 1.
fn call(
    client: &Client,
    package: &str,
    operation: &str,
    input: &str,
    idempotency_key: Option<String>,
) -> anyhow::Result<ExitCode> {
    let body = read_json(input)?;
    let mut request = ureq::post(&format!(
        "{}/v1/plugins/{package}/{operation}",
        client.server
    ))
    .set("Authorization", &format!("Bearer {}", client.token));
    if let Some(key) = &idempotency_key {
        request = request.set("Idempotency-Key", key);
    }
    let (status, response) = match request.send_json(body) {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(status, r)) => (status, r),
        Err(e) => bail!("cannot reach {}: {e}", client.server),
    };
    let header = |name: &str| response.header(name).unwrap_or("?").to_owned();
    let usage = format!(
        "usage: outcome={} version={} fuel={} id={}",
        header("spleis-outcome"),
        header("spleis-version"),
        header("spleis-fuel"),
        header("spleis-usage-id")
    );
    let text = response
        .into_string()
        .context("cannot read the plugin's answer")?;
    // The plugin's bytes: JSON as the contract asks, but a plugin may write
    // anything, which is shown as it is.
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    println!("{}", serde_json::to_string_pretty(&value)?);
    eprintln!("{usage}");
    if !(200..300).contains(&status) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `spleis emit`: a platform event and where it was delivered.
fn emit(client: &Client, topic: String, payload: &str) -> anyhow::Result<()> {
    let body = types::NewEvent {
        topic,
        payload: read_json(payload)?,
    };
    let result = client.post::<types::Deliveries>("/v1/events", &body)?;
    result.print(client, |r| {
        list(&r.deliveries, "no install subscribes to this topic", |d| {
            format!(
                "{} depth {}: {} {}",
                d.package, d.depth, d.outcome, d.message
            )
        })
    })
}

/// `spleis usage`: the caller's usage records, newest first.
fn usage(client: &Client, limit: u32) -> anyhow::Result<()> {
    let usage = client.get::<types::TenantUsage>(&format!("/v1/usage?limit={limit}"))?;
    usage.print(client, |u| {
        list(&u.records, "no usage yet", |r| {
            let usage = &r.usage;
            format!(
                "{:<28} {:<18} {:<14} fuel={} {}µs (host {}µs) units={}",
                usage.plugin,
                usage.operation,
                usage.outcome.as_str(),
                usage.fuel_consumed,
                usage.wall_time_us,
                usage.host_time_us,
                json_text(&usage.units)
            )
        })
    })
}

/// `spleis client tokens …`.
fn tokens(client: &Client, command: TokensCommand) -> anyhow::Result<()> {
    let query = |account: &Option<String>| {
        account
            .as_ref()
            .map(|a| format!("?account={a}"))
            .unwrap_or_default()
    };
    match command {
        TokensCommand::List { account } => {
            let reply: Reply<types::Tokens> =
                client.get(&format!("/v1/tokens{}", query(&account)))?;
            reply.print(client, |t| {
                list(&t.tokens, "no tokens", |t| {
                    let state = match (t.revoked_at, t.expires_at) {
                        (Some(_), _) => "revoked".to_owned(),
                        (None, Some(at)) => format!("expires at {at} (unix ms)"),
                        (None, None) => "active".to_owned(),
                    };
                    format!("{}  {:<12} {:<30} {state}", t.id, t.account, t.label)
                })
            })
        }
        TokensCommand::Create {
            label,
            expires_in_days,
            account,
        } => {
            let expires_at_ms = expires_in_days.map(|days| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                now + i64::from(days) * 24 * 3600 * 1000
            });
            let reply: Reply<TokenCreated> = client.post(
                "/v1/tokens",
                &serde_json::json!({"label": label, "expires_at_ms": expires_at_ms, "account": account}),
            )?;
            reply.print(client, |t| {
                format!(
                    "{}\n(token `{}` of {}: shown once, keep it safe)",
                    t.token, t.info.id, t.info.account
                )
            })
        }
        TokensCommand::Revoke { id, account } => {
            client.send_empty(
                method::DELETE,
                &format!("/v1/tokens/{id}{}", query(&account)),
            )?;
            println!("revoked {id}");
            Ok(())
        }
    }
}

/// `spleis client limits`: one tenant's limits and current use, after
/// replacing its overrides when asked.
fn limits(
    client: &Client,
    tenant: Option<&str>,
    overrides: Option<LimitOverrides>,
) -> anyhow::Result<()> {
    let view: Reply<LimitsView> = match (tenant, overrides) {
        (None, _) => client.get("/v1/limits")?,
        (Some(t), None) => client.get(&format!("/v1/tenants/{t}/limits"))?,
        (Some(t), Some(o)) => client.send("PUT", &format!("/v1/tenants/{t}/limits"), &o)?,
    };
    view.print(client, |v| {
        let l = &v.limits;
        let o = &v.overrides;
        let from = |set: bool| if set { "set by the operator" } else { "default" };
        format!(
            "limits of {}\n  concurrency        {:>14}  ({})\n  rate per second    {:>14}  ({})\n  burst              {:>14}  ({})\n  storage per install{:>14}  bytes ({})\n  fan-out            {:>14}  ({})\nnow: {} running, {} calls available at once, throttled {} (rate) and {} (concurrency)",
            v.tenant,
            l.concurrency,
            from(o.concurrency.is_some()),
            l.rate_per_second,
            from(o.rate_per_second.is_some()),
            l.burst,
            from(o.burst.is_some()),
            l.storage_quota_bytes,
            from(o.storage_quota_bytes.is_some()),
            l.fan_out,
            from(o.fan_out.is_some()),
            v.current.running,
            v.current.calls_available,
            v.current.throttled_rate,
            v.current.throttled_concurrency,
        )
    })
}

/// A value as compact JSON, as the text output shows lists.
fn json_text(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_that_does_not_fit_fails_naming_the_field() {
        let answer = json!({"packages": [{"name": "a/b", "description": "", "latest": 1}]});
        let error = decode::<types::Catalog>(&answer).expect_err("latest is no string");
        let message = format!("{error:#}");
        assert!(message.contains("`packages[0].latest`"), "{message}");
        let missing = json!({"packages": [{"name": "a/b", "latest": null}]});
        let error = decode::<types::Catalog>(&missing).expect_err("no description");
        assert!(format!("{error:#}").contains("description"), "{error:#}");
        let fits = json!({"packages": [{"name": "a/b", "description": "", "latest": null}]});
        assert_eq!(
            decode::<types::Catalog>(&fits)
                .expect("fits")
                .packages
                .len(),
            1
        );
    }
}
