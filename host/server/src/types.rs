//! The HTTP contract's own request and response bodies (serde and
//! `utoipa::ToSchema`), shared by the server and the CLI's client. Bodies
//! that are a domain type as it is (an account, an install, a version, what
//! an operation answers) use that type, which derives its schema where it is
//! defined; the ones a client needs are re-exported here, so the contract
//! reads from one module.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::{IntoParams, ToSchema};

pub use spleis_domain::UsageRow;
pub use spleis_domain::accounts::{Account, Role, TokenInfo};
pub use spleis_domain::events::Delivery;
pub use spleis_domain::installs::{HistoryEntry, InstallRecord, PendingUpgrade, UpgradeReport};
pub use spleis_domain::registry::{PackageSummary, VersionRecord};
pub use spleis_domain::{MeterReport, OutcomeKind, Usage};
pub use spleis_platform::AccountCreated;
pub use spleis_platform::Published;
pub use spleis_platform::installs::InstallDetail;
pub use spleis_platform::registry::PackageDetail;
pub use spleis_platform::usage::TenantUsage;
pub use spleis_registry::{Capability, Manifest};

pub mod billing;
pub mod notifications;
pub mod wishlist;

/// Every error answer: `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// An error's code and words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A machine-readable code (`not-found`, `forbidden`, `invalid-body`, …).
    pub code: String,
    /// Words for people.
    pub message: String,
    /// For a failed plugin call, its outcome kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `POST /v1/accounts`: a new account.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Lowercase kebab-case id (`acme`, `tenant-a`).
    pub id: String,
    /// What it may do.
    pub role: Role,
    /// A display name; default: the id.
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /v1/packages`: a component to publish.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// The component (`.wasm`), base64.
    pub component: String,
    /// The manifest (`Cargo.toml` or `spleis.toml` text); default: the one
    /// the SDK embedded in the component.
    #[serde(default)]
    pub manifest: Option<String>,
}

/// `GET /v1/packages?q=`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Words to find in a package's name or description.
    #[serde(default)]
    pub q: Option<String>,
}

/// The answer to `GET /v1/packages`: the catalog.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Catalog {
    /// The packages, by name.
    pub packages: Vec<PackageSummary>,
}

/// `POST /v1/namespaces/{namespace}/owners`: a new owner.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOwner {
    /// The account to add.
    pub account: String,
}

/// `POST /v1/installs`: a package to install.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstall {
    /// `namespace/name`.
    pub package: String,
    /// A version requirement (`^1.2`, `=1.0.0`); default `*`.
    #[serde(default)]
    pub requirement: Option<String>,
    /// The capabilities granted: at least what the version declares.
    #[serde(default)]
    pub grants: BTreeSet<Capability>,
    /// The install's settings.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    /// Bytes of plugin storage the install may use, at most the tenant's
    /// storage limit; default: that limit.
    #[serde(default)]
    pub storage_quota_bytes: Option<u64>,
}

/// The answer to `GET /v1/installs`: the tenant's active installs.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Installs {
    /// The installs, by package.
    pub installs: Vec<InstallRecord>,
}

/// `POST /v1/installs/{namespace}/{name}/upgrade`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Upgrade {
    /// A new requirement (`=x.y.z` pins); default: the current one.
    #[serde(default)]
    pub requirement: Option<String>,
    /// Capabilities granted in addition to the current grants.
    #[serde(default)]
    pub grants: BTreeSet<Capability>,
}

/// `DELETE /v1/installs/{namespace}/{name}?purge=`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PurgeQuery {
    /// Delete the install's stored data now, not after the retention period.
    #[serde(default)]
    pub purge: bool,
}

/// The answer to `GET /v1/upgrades`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PendingUpgrades {
    /// Upgrades waiting for the tenant to grant new capabilities.
    pub pending: Vec<PendingUpgrade>,
}

/// `GET /v1/usage?tenant=&limit=`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// The tenant (the operator names one; a tenant may name only itself).
    #[serde(default)]
    pub tenant: Option<String>,
    /// How many records, newest first; default 100, at most 10000.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `POST /v1/events`: a platform event of the tenant.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Dot-separated lowercase words, e.g. `member.joined`.
    pub topic: String,
    /// Any JSON; the subscribers receive it as the event's payload.
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// The answer to `POST /v1/events`: every delivery, breadth first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Deliveries {
    /// One per (event, subscribing install).
    pub deliveries: Vec<Delivery>,
}

/// The path of a package: `/{namespace}/{name}`.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PackagePath {
    /// The namespace (the publisher's).
    pub namespace: String,
    /// The package's name within it.
    pub name: String,
}

impl PackagePath {
    /// `namespace/name`.
    pub fn package(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// The path of a package's version: `/{namespace}/{name}/…/{version}`.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VersionPath {
    /// The namespace.
    pub namespace: String,
    /// The package's name within it.
    pub name: String,
    /// The version, `x.y.z`.
    pub version: String,
}

impl VersionPath {
    /// `namespace/name`.
    pub fn package(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// The path of a plugin call: `/v1/plugins/{namespace}/{name}/{operation}`.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OperationPath {
    /// The namespace.
    pub namespace: String,
    /// The package's name within it.
    pub name: String,
    /// One of the operations its manifest declares.
    pub operation: String,
}

impl OperationPath {
    /// `namespace/name`.
    pub fn package(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// The path of a namespace: `/v1/namespaces/{namespace}/…`.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NamespacePath {
    /// The namespace.
    pub namespace: String,
}

/// The error answers any `/v1` route may give, each an [`ErrorBody`].
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its schema is used
pub enum Errors {
    /// The request is malformed (a field out of range, bad JSON).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No token, or an unknown or revoked one.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The caller's role or relation does not allow this.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// What the request names does not exist, or is not the caller's.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// It conflicts with what exists.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Well-formed but refused (an invalid component, plan or period).
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// The tenant is over its rate or concurrency: retry after the
    /// `Retry-After` header's seconds.
    #[response(status = 429, headers(("Retry-After" = u64, description = "seconds to wait")))]
    TooManyRequests(ErrorBody),
    /// The platform is at capacity: retry after `Retry-After` seconds.
    #[response(status = 503, headers(("Retry-After" = u64, description = "seconds to wait")))]
    Unavailable(ErrorBody),
    /// The platform failed; nothing the caller did.
    #[response(status = 500)]
    Internal(ErrorBody),
}

/// `POST /v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// A name for people: 1 to 100 visible characters after trimming (no
    /// control characters).
    #[schema(min_length = 1, max_length = 100)]
    pub label: String,
    /// When it stops working (unix ms), at most ten years ahead; default:
    /// never.
    #[serde(default)]
    pub expires_at_ms: Option<i64>,
    /// The account it is for (operator only); default: the caller.
    #[serde(default)]
    pub account: Option<String>,
}

/// `GET /v1/tokens`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Tokens {
    /// Newest first, without their secrets.
    pub tokens: Vec<TokenInfo>,
}
