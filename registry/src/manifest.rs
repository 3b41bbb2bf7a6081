//! The plugin manifest: what a plugin declares about itself.
//!
//! A Rust plugin declares it in its `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "energy-tariff"
//! version = "1.2.0"
//!
//! [package.metadata.spleis]
//! name = "examples/energy-tariff"          # namespace/name in the registry
//! capabilities = ["metering", "log"]       # what the tenant is asked to grant
//! operations = ["quote"]                   # what callers may call
//! subscribes = []                          # event topics delivered to on-event
//!
//! [package.metadata.spleis.metrics.active-contract]
//! aggregation = "unique"                   # "sum" or "unique" (per key per period)
//! description = "An active supply contract"
//! ```
//!
//! A plugin written in another language puts the same keys at the top level
//! of a `spleis.toml`, with `version` beside them.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// A capability a plugin asks for and a tenant grants: one import of the
/// `spleis:plugin` world.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// Key-value storage scoped to (tenant, plugin).
    Storage,
    /// The install's settings.
    Config,
    /// Reporting billable units.
    Metering,
    /// Emitting events to the tenant's other plugins.
    Events,
    /// Writing to the install's log.
    Log,
}

impl Capability {
    /// Every capability, in contract order.
    pub const ALL: [Capability; 5] = [
        Capability::Storage,
        Capability::Config,
        Capability::Metering,
        Capability::Events,
        Capability::Log,
    ];

    /// The name used in manifests and grants, which is also the name of the
    /// WIT interface (`spleis:plugin/<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Capability::Storage => "storage",
            Capability::Config => "config",
            Capability::Metering => "metering",
            Capability::Events => "events",
            Capability::Log => "log",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Capability {
    type Err = ManifestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Capability::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| ManifestError::UnknownCapability(s.to_owned()))
    }
}

/// How billing aggregates a metric's reports within a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Aggregation {
    /// The sum of the reported quantities.
    Sum,
    /// The number of distinct keys reported (e.g. active contracts).
    Unique,
}

/// A billable metric the plugin may report through `metering`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Metric {
    /// How reports are aggregated.
    pub aggregation: Aggregation,
    /// What one unit is, for invoices.
    #[serde(default)]
    pub description: String,
}

/// A validated plugin manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Manifest {
    /// `namespace/name`, lowercase.
    pub name: String,
    /// The plugin's version.
    #[schema(value_type = String)]
    pub version: semver::Version,
    /// One line for the catalog.
    #[serde(default)]
    pub description: String,
    /// The capabilities the plugin asks the tenant to grant.
    pub capabilities: BTreeSet<Capability>,
    /// The operations callers may call.
    pub operations: BTreeSet<String>,
    /// The event topics delivered to `on-event`.
    #[serde(default)]
    pub subscribes: BTreeSet<String>,
    /// The metrics the plugin may report.
    #[serde(default)]
    pub metrics: BTreeMap<String, Metric>,
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The text is not TOML.
    #[error("the manifest is not valid TOML: {0}")]
    Toml(toml::de::Error),
    /// Neither `[package.metadata.spleis]` nor top-level spleis keys.
    #[error(
        "no spleis manifest found: add a [package.metadata.spleis] table to Cargo.toml (or write a spleis.toml)"
    )]
    Missing,
    /// A required key is missing or has the wrong type.
    #[error("the manifest's `{key}` {problem}")]
    Field {
        /// The key, e.g. `operations`.
        key: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A capability name the contract does not have.
    #[error(
        "unknown capability `{0}`: the contract offers storage, config, metering, events and log"
    )]
    UnknownCapability(String),
    /// Metrics declared without `metering`, or `metering` without metrics.
    #[error("{0}")]
    Inconsistent(String),
}

fn field(key: &'static str, problem: impl Into<String>) -> ManifestError {
    ManifestError::Field {
        key,
        problem: problem.into(),
    }
}

/// What the TOML holds before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
    #[serde(default)]
    capabilities: Vec<String>,
    #[serde(default)]
    operations: Vec<String>,
    #[serde(default)]
    subscribes: Vec<String>,
    #[serde(default)]
    metrics: BTreeMap<String, Metric>,
}

impl Manifest {
    /// Reads a manifest from a `Cargo.toml` (its `[package.metadata.spleis]`
    /// table, with the package's version and description) or from a
    /// `spleis.toml` (the same keys at the top level, with `version`).
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        Self::parse_with_version(text, None)
    }

    /// Like [`parse`](Self::parse), with the version given apart (the
    /// SDK records `CARGO_PKG_VERSION`, which also covers a version
    /// inherited from a workspace).
    pub fn parse_with_version(text: &str, version: Option<&str>) -> Result<Self, ManifestError> {
        let doc: toml::Table = text.parse().map_err(ManifestError::Toml)?;
        let package = doc.get("package").and_then(|p| p.as_table());
        let spleis = package
            .and_then(|p| p.get("metadata"))
            .and_then(|m| m.get("spleis"))
            .and_then(|s| s.as_table());
        let (table, cargo_version, cargo_description) = match (spleis, package) {
            (Some(table), Some(package)) => (
                table.clone(),
                package
                    .get("version")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                package
                    .get("description")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            ),
            _ if doc.contains_key("name") && doc.contains_key("operations") => (doc, None, None),
            _ => return Err(ManifestError::Missing),
        };
        let raw: Raw = table
            .try_into()
            .map_err(|e: toml::de::Error| field("table", e.message().to_owned()))?;
        Self::validate(
            raw,
            version.map(str::to_owned).or(cargo_version),
            cargo_description,
        )
    }

    fn validate(
        raw: Raw,
        cargo_version: Option<String>,
        cargo_description: Option<String>,
    ) -> Result<Self, ManifestError> {
        let name = raw
            .name
            .ok_or_else(|| field("name", "is missing (namespace/name)"))?;
        validate_package_name(&name)?;
        let version_text = raw
            .version
            .or(cargo_version)
            .ok_or_else(|| field("version", "is missing"))?;
        let version = semver::Version::parse(&version_text)
            .map_err(|e| field("version", format!("`{version_text}` is not semver: {e}")))?;
        let capabilities = raw
            .capabilities
            .iter()
            .map(|c| c.parse())
            .collect::<Result<BTreeSet<Capability>, _>>()?;
        if raw.operations.is_empty() {
            return Err(field("operations", "must list at least one operation"));
        }
        let mut operations = BTreeSet::new();
        for op in raw.operations {
            if !is_kebab(&op) {
                return Err(field(
                    "operations",
                    format!(
                        "has `{op}`: operation names are lowercase kebab-case, e.g. `add-member`"
                    ),
                ));
            }
            if !operations.insert(op.clone()) {
                return Err(field("operations", format!("lists `{op}` twice")));
            }
        }
        let mut subscribes = BTreeSet::new();
        for topic in raw.subscribes {
            validate_topic(&topic).map_err(|p| field("subscribes", p))?;
            subscribes.insert(topic);
        }
        for metric in raw.metrics.keys() {
            if !is_kebab(metric) {
                return Err(field(
                    "metrics",
                    format!("has `{metric}`: metric names are lowercase kebab-case"),
                ));
            }
        }
        let metering = capabilities.contains(&Capability::Metering);
        if !raw.metrics.is_empty() && !metering {
            return Err(ManifestError::Inconsistent(
                "the manifest declares metrics but not the `metering` capability".into(),
            ));
        }
        if raw.metrics.is_empty() && metering {
            return Err(ManifestError::Inconsistent(
                "the manifest asks for `metering` but declares no metrics".into(),
            ));
        }
        Ok(Self {
            name,
            version,
            description: raw.description.or(cargo_description).unwrap_or_default(),
            capabilities,
            operations,
            subscribes,
            metrics: raw.metrics,
        })
    }
}

/// `a-b-c`: lowercase ASCII letters and digits in dash-separated words.
fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && s.as_bytes()[0].is_ascii_lowercase()
}

/// Checks `namespace/name`: two kebab-case words joined by one slash.
pub fn validate_package_name(name: &str) -> Result<(), ManifestError> {
    match name.split_once('/') {
        Some((ns, n)) if is_kebab(ns) && is_kebab(n) => Ok(()),
        _ => Err(field(
            "name",
            format!(
                "`{name}` is not namespace/name in lowercase kebab-case, e.g. `acme/energy-tariff`"
            ),
        )),
    }
}

/// Checks an event topic: dot-separated lowercase words (`member.joined`).
pub fn validate_topic(topic: &str) -> Result<(), String> {
    let ok = !topic.is_empty()
        && topic.len() <= 128
        && topic.split('.').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{topic}` is not a topic: dot-separated lowercase words, e.g. `member.joined`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARGO: &str = r#"
[package]
name = "energy-tariff"
version = "1.2.0"
description = "Prices contracts"

[package.metadata.spleis]
name = "examples/energy-tariff"
capabilities = ["metering", "log"]
operations = ["quote"]
subscribes = ["contract.signed"]

[package.metadata.spleis.metrics.active-contract]
aggregation = "unique"
description = "An active contract"
"#;

    #[test]
    fn reads_cargo_toml() {
        let m = Manifest::parse(CARGO).unwrap();
        assert_eq!(m.name, "examples/energy-tariff");
        assert_eq!(m.version, semver::Version::new(1, 2, 0));
        assert_eq!(m.description, "Prices contracts");
        assert!(m.capabilities.contains(&Capability::Metering));
        assert_eq!(
            m.metrics["active-contract"].aggregation,
            Aggregation::Unique
        );
        assert!(m.subscribes.contains("contract.signed"));
    }

    #[test]
    fn reads_spleis_toml() {
        let m = Manifest::parse(
            "name = \"acme/x\"\nversion = \"0.1.0\"\noperations = [\"run\"]\ncapabilities = [\"storage\"]\n",
        )
        .unwrap();
        assert_eq!(m.operations.iter().next().unwrap(), "run");
        assert!(m.metrics.is_empty());
    }

    fn err(text: &str) -> String {
        Manifest::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn names_what_is_wrong() {
        assert!(err("[package]\nname=\"x\"\nversion=\"1.0.0\"").contains("no spleis manifest"));
        let base = "[package]\nname=\"x\"\nversion=\"1.0.0\"\n[package.metadata.spleis]\n";
        assert!(
            err(&format!("{base}name=\"Acme/X\"\noperations=[\"a\"]")).contains("namespace/name")
        );
        assert!(
            err(&format!("{base}name=\"a/b\"\noperations=[]")).contains("at least one operation")
        );
        assert!(err(&format!("{base}name=\"a/b\"\noperations=[\"Do_It\"]")).contains("kebab-case"));
        assert!(
            err(&format!(
                "{base}name=\"a/b\"\noperations=[\"a\"]\ncapabilities=[\"network\"]"
            ))
            .contains("unknown capability `network`")
        );
        assert!(
            err(&format!(
                "{base}name=\"a/b\"\noperations=[\"a\"]\ncapabilities=[\"metering\"]"
            ))
            .contains("declares no metrics")
        );
        assert!(err(&format!(
            "{base}name=\"a/b\"\noperations=[\"a\"]\n[package.metadata.spleis.metrics.m]\naggregation=\"sum\""
        ))
        .contains("not the `metering` capability"));
        assert!(
            err(&format!(
                "{base}name=\"a/b\"\noperations=[\"a\"]\nsubscribes=[\"Bad Topic\"]"
            ))
            .contains("not a topic")
        );
        assert!(
            err(&format!(
                "{base}name=\"a/b\"\noperations=[\"a\"]\nunknown=1"
            ))
            .contains("unknown")
        );
        assert!(err("[package]\nname=\"x\"\nversion=\"one\"\n[package.metadata.spleis]\nname=\"a/b\"\noperations=[\"a\"]")
            .contains("not semver"));
    }
}
