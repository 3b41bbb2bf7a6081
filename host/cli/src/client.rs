//! The CLI as a client of a spleis server: `login`, `publish`, `catalog`,
//! `install`, `upgrade`, `uninstall`, `call`, `emit`, `usage`.
//!
//! The server and token come from `--server`/`--token`, else the
//! environment (`SPLEIS_SERVER`, `SPLEIS_TOKEN`), else the file `spleis login`
//! writes (`$XDG_CONFIG_HOME/spleis/credentials.toml`, mode 0600).

use anyhow::{Context, bail};
use base64::Engine;
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
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
        grants: Vec<String>,
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
        grants: Vec<String>,
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
    /// Show your usage records.
    Usage {
        /// How many, newest first.
        #[arg(long, default_value_t = 20)]
        limit: u32,
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

    /// Sends a request; a non-2xx answer becomes an error with the server's message.
    pub(super) fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let text = self.send_text(method, path, body)?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Sends a request and returns the answer's text (CSV, HTML, JSON).
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
            Ok(response) => Ok(response.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                match (
                    doc["error"]["code"].as_str(),
                    doc["error"]["message"].as_str(),
                ) {
                    (Some(code), Some(message)) => bail!("{message} ({code}, HTTP {status})"),
                    _ => bail!("HTTP {status}: {text}"),
                }
            }
            Err(error) => bail!("cannot reach {}: {error}", self.server),
        }
    }

    /// Whether `--json` was given.
    pub(super) fn json(&self) -> bool {
        self.json
    }

    /// Prints the server's JSON with `--json`, else `text` of it.
    pub(super) fn print(
        &self,
        value: &Value,
        text: impl FnOnce(&Value) -> String,
    ) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            println!("{}", text(value));
        }
        Ok(())
    }
}

/// One line per element of the JSON array `list`, or `empty` when there is none.
pub(super) fn lines(list: &Value, empty: &str, line: impl Fn(&Value) -> String) -> String {
    let rows: Vec<String> = list.as_array().into_iter().flatten().map(line).collect();
    if rows.is_empty() {
        empty.to_owned()
    } else {
        rows.join("\n")
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

fn settings(pairs: &[String]) -> anyhow::Result<Value> {
    let mut map = serde_json::Map::new();
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .with_context(|| format!("--config `{pair}` is not KEY=VALUE"))?;
        map.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    Ok(Value::Object(map))
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
    if let ClientCommand::Login = command {
        let client = Client::new(&connection)?;
        let who = client.send("GET", "/v1/whoami", None)?;
        let path =
            credentials_path().context("no HOME or XDG_CONFIG_HOME to save credentials in")?;
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
            "logged in to {} as {} ({}); saved to {}",
            client.server,
            who["id"],
            who["role"],
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let client = Client::new(&connection)?;
    match command {
        ClientCommand::Login => unreachable!("handled above"),
        ClientCommand::Publish { path } => {
            let (wasm, manifest) = if path.extension().is_some_and(|e| e == "wasm") {
                (path.clone(), None)
            } else {
                let (wasm, manifest) = build(&path)?;
                (wasm, Some(manifest))
            };
            let bytes =
                std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
            let bar = spinner(format!(
                "uploading {} ({} KiB)",
                wasm.display(),
                bytes.len() / 1024
            ));
            let body = json!({
                "component": base64::engine::general_purpose::STANDARD.encode(&bytes),
                "manifest": manifest,
            });
            let result = client.send("POST", "/v1/packages", Some(body));
            bar.finish_and_clear();
            let published = result?;
            client.print(&published, |p| {
                let v = &p["version"];
                let state = if p["created"] == true { "published" } else { "already published (same bytes)" };
                format!(
                    "{}@{} {state}\n  digest: {}\n  upgraded installs: {}\n  pending (need new grants): {}",
                    v["package"].as_str().unwrap_or("?"),
                    v["version"].as_str().unwrap_or("?"),
                    v["digest"].as_str().unwrap_or("?"),
                    p["upgrades"]["upgraded"].as_array().map_or(0, Vec::len),
                    p["upgrades"]["pending"].as_array().map_or(0, Vec::len),
                )
            })?;
        }
        ClientCommand::Catalog { query } => {
            let path = match &query {
                Some(q) => format!("/v1/packages?q={}", q.replace(' ', "%20")),
                None => "/v1/packages".to_owned(),
            };
            let catalog = client.send("GET", &path, None)?;
            client.print(&catalog, |c| {
                lines(&c["packages"], "no packages", |p| {
                    format!(
                        "{:<32} {:<10} {}",
                        p["name"].as_str().unwrap_or("?"),
                        p["latest"].as_str().unwrap_or("-"),
                        p["description"].as_str().unwrap_or("")
                    )
                })
            })?;
        }
        ClientCommand::Install {
            package,
            grants,
            config,
        } => {
            let (name, requirement) = package.split_once('@').unwrap_or((&package, "*"));
            let grants: Vec<String> = if grants.is_empty() {
                // Grant what the newest matching version declares; the
                // server still refuses anything short of that.
                let detail = client.send("GET", &format!("/v1/packages/{name}"), None)?;
                detail["versions"]
                    .as_array()
                    .and_then(|v| v.last())
                    .and_then(|v| v["manifest"]["capabilities"].as_array())
                    .map(|caps| {
                        caps.iter()
                            .filter_map(|c| c.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                grants
            };
            let body = json!({"package": name, "requirement": requirement, "grants": grants, "config": settings(&config)?});
            let install = client.send("POST", "/v1/installs", Some(body))?;
            client.print(&install, |i| {
                format!(
                    "installed {}@{} (requirement {}, grants: {})",
                    i["package"].as_str().unwrap_or("?"),
                    i["version"].as_str().unwrap_or("?"),
                    i["requirement"].as_str().unwrap_or("?"),
                    i["grants"]
                )
            })?;
        }
        ClientCommand::Upgrade {
            package,
            requirement,
            grants,
        } => {
            let install = client.send(
                "POST",
                &format!("/v1/installs/{package}/upgrade"),
                Some(json!({"requirement": requirement, "grants": grants})),
            )?;
            client.print(&install, |i| {
                format!(
                    "{} now runs {} (requirement {})",
                    i["package"].as_str().unwrap_or("?"),
                    i["version"].as_str().unwrap_or("?"),
                    i["requirement"].as_str().unwrap_or("?")
                )
            })?;
        }
        ClientCommand::Uninstall { package, purge } => {
            client.send(
                "DELETE",
                &format!("/v1/installs/{package}?purge={purge}"),
                None,
            )?;
            let note = if purge {
                "its data was deleted"
            } else {
                "its data is kept for the retention period"
            };
            client.print(&json!({"uninstalled": package, "purged": purge}), |_| {
                format!("uninstalled {package}; {note}")
            })?;
        }
        ClientCommand::Call {
            package,
            operation,
            input,
            idempotency_key,
        } => {
            let body = read_json(&input)?;
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
            let text = response.into_string().unwrap_or_default();
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            println!("{}", serde_json::to_string_pretty(&value)?);
            eprintln!("{usage}");
            if !(200..300).contains(&status) {
                return Ok(ExitCode::from(1));
            }
        }
        ClientCommand::Emit { topic, payload } => {
            let result = client.send(
                "POST",
                "/v1/events",
                Some(json!({"topic": topic, "payload": read_json(&payload)?})),
            )?;
            client.print(&result, |r| {
                lines(
                    &r["deliveries"],
                    "no install subscribes to this topic",
                    |d| {
                        format!(
                            "{} depth {}: {} {}",
                            d["package"].as_str().unwrap_or("?"),
                            d["depth"],
                            d["outcome"].as_str().unwrap_or("?"),
                            d["message"].as_str().unwrap_or("")
                        )
                    },
                )
            })?;
        }
        ClientCommand::Usage { limit } => {
            let usage = client.send("GET", &format!("/v1/usage?limit={limit}"), None)?;
            client.print(&usage, |u| {
                lines(&u["records"], "no usage yet", |r| {
                    format!(
                        "{:<28} {:<18} {:<14} fuel={:<10} {}µs units={}",
                        r["plugin"].as_str().unwrap_or("?"),
                        r["operation"].as_str().unwrap_or("?"),
                        r["outcome"].as_str().unwrap_or("?"),
                        r["fuel_consumed"],
                        r["wall_time_us"],
                        r["units"]
                    )
                })
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
