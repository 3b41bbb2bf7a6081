//! API errors: `{"error": {"code", "message"}}` with a fitting status.

use crate::types::{ErrorBody, ErrorDetail};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use spleis_billing::MoneyError;
use spleis_billing::bounds::InputError;
use spleis_billing::period::CloseOrderError;
use spleis_billing::rating::PlanError;
use spleis_domain::DatabaseError;
use spleis_domain::accounts::AccountError;
use spleis_domain::billing::BillingError;
use spleis_domain::installs::InstallError;
use spleis_domain::notifications::WebhookError;
use spleis_domain::registry::RegistryError;
use spleis_domain::wishlist::WishlistError;
use spleis_platform::shares::Throttled;
use spleis_platform::{AccessError, CallFailure, PublishError};
use spleis_registry::resolve::ResolveError;
use spleis_runtime::InvokeError;

/// A JSON request body whose rejection (malformed JSON, a missing or
/// unknown field, the wrong content type, too large) is an [`ApiError`] like
/// every other error, not axum's plain-text answer.
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let value = match Json::<serde_json::Value>::from_request(request, state).await {
            Ok(Json(value)) => value,
            Err(rejection) => {
                return Err(ApiError::new(
                    rejection.status(),
                    "invalid-body",
                    rejection.body_text(),
                ));
            }
        };
        // Every body is an object: serde's derived structs would also take
        // a JSON array of the fields in order, which no client means.
        if !value.is_object() {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                "the body must be a JSON object",
            ));
        }
        serde_json::from_value(value).map(Body).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            )
        })
    }
}

/// A query string whose rejection (a value that does not parse) is an
/// [`ApiError`] like every other error, not axum's plain-text answer.
pub struct Params<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Params<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Params(value)),
            Err(rejection) => Err(ApiError::new(
                rejection.status(),
                "invalid-query",
                rejection.body_text(),
            )),
        }
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A machine-readable code.
    pub code: String,
    /// Words for people.
    pub message: String,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with any status and code.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }

    /// 403: the caller may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = %self.code, message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                kind: None,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        error.to_string(),
    )
}

impl From<DatabaseError> for ApiError {
    fn from(e: DatabaseError) -> Self {
        internal(e)
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::InvalidId(_) => ApiError::bad_request(e.to_string()),
            // Like every bounded text billing stores: 422 with its code.
            AccountError::InvalidName(ref input) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                input_code(input),
                e.to_string(),
            ),
            AccountError::Exists(_) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            AccountError::TooManyTokens { .. } => {
                ApiError::new(StatusCode::CONFLICT, "too-many-tokens", e.to_string())
            }
            AccountError::Unknown(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not-found", e.to_string())
            }
            AccountError::Database(e) => e.into(),
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        let message = e.to_string();
        match e {
            RegistryError::NotOwner { .. } => ApiError::forbidden(message),
            RegistryError::VersionExists { .. } => {
                ApiError::new(StatusCode::CONFLICT, "version-exists", message)
            }
            RegistryError::UnknownPackage(_)
            | RegistryError::UnknownVersion { .. }
            | RegistryError::UnknownNamespace(_)
            | RegistryError::UnknownAccount(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not-found", message)
            }
            RegistryError::Resolve {
                source: ResolveError::InvalidRequirement { .. },
                ..
            } => ApiError::bad_request(message),
            RegistryError::Resolve { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unresolvable", message)
            }
            RegistryError::Integrity(_) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "integrity", message)
            }
            RegistryError::Database(e) => e.into(),
        }
    }
}

impl From<InstallError> for ApiError {
    fn from(e: InstallError) -> Self {
        let message = e.to_string();
        match e {
            InstallError::NotGranted { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "capabilities-not-granted",
                message,
            ),
            InstallError::AlreadyInstalled(_)
            | InstallError::NoPrevious(_)
            | InstallError::Changed(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            InstallError::NotInstalled(_) | InstallError::NoPending { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not-found", message)
            }
            InstallError::Registry(e) => e.into(),
        }
    }
}

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        let message = e.to_string();
        match e {
            PublishError::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", message)
            }
            PublishError::NoManifest
            | PublishError::Manifest(_)
            | PublishError::ManifestMismatch { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-manifest",
                message,
            ),
            PublishError::Component(_) | PublishError::UndeclaredCapability(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-component",
                message,
            ),
            PublishError::Registry(e) => e.into(),
            PublishError::Database(e) => e.into(),
        }
    }
}

impl From<CallFailure> for ApiError {
    fn from(e: CallFailure) -> Self {
        let message = e.to_string();
        match e {
            CallFailure::NotInstalled(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not-installed", message)
            }
            CallFailure::KeyInProgress(_) => {
                ApiError::new(StatusCode::CONFLICT, "idempotency-key-in-progress", message)
            }
            CallFailure::InvalidKey(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid-idempotency-key", message)
            }
            CallFailure::KeyReused(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                message,
            ),
            CallFailure::Refused(InvokeError::UnknownOperation { .. }) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown-operation", message)
            }
            CallFailure::Refused(_) | CallFailure::Load(_) | CallFailure::Join(_) => {
                internal(message)
            }
            CallFailure::Registry(e) => e.into(),
            CallFailure::Database(e) => e.into(),
            CallFailure::Throttled(throttled) => {
                let (status, code) = match throttled {
                    Throttled::Rate { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited"),
                    Throttled::Concurrency { .. } => {
                        (StatusCode::TOO_MANY_REQUESTS, "concurrency-limited")
                    }
                    Throttled::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "at-capacity"),
                };
                ApiError {
                    retry_after: Some(throttled.retry_after_secs()),
                    ..ApiError::new(status, code, message)
                }
            }
        }
    }
}

impl From<BillingError> for ApiError {
    fn from(e: BillingError) -> Self {
        let message = e.to_string();
        let (status, code) = match e {
            BillingError::UnknownPackage(_) => (StatusCode::NOT_FOUND, "unknown-package"),
            BillingError::UnknownAccount { .. } => (StatusCode::NOT_FOUND, "unknown-account"),
            BillingError::NotFound { .. } => (StatusCode::NOT_FOUND, "not-found"),
            BillingError::Input(e) => (StatusCode::UNPROCESSABLE_ENTITY, input_code(&e)),
            BillingError::Plan(e) => (StatusCode::UNPROCESSABLE_ENTITY, plan_code(&e)),
            // A malformed period or currency in a request was a 400 before
            // billing had typed errors; it stays one.
            BillingError::InvalidPeriod(_) => (StatusCode::BAD_REQUEST, "invalid-period"),
            BillingError::Money(MoneyError::UnknownCurrency(_)) => {
                (StatusCode::BAD_REQUEST, "unknown-currency")
            }
            BillingError::Money(MoneyError::CurrencyMismatch(..)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "currency-mismatch")
            }
            BillingError::Money(MoneyError::Overflow)
            | BillingError::Overflow(_)
            | BillingError::Usage(_) => (StatusCode::UNPROCESSABLE_ENTITY, "overflow"),
            BillingError::CurrencyLocked { .. } => (StatusCode::CONFLICT, "currency-locked"),
            BillingError::NoInvestorShare { .. } => (StatusCode::CONFLICT, "no-investor-share"),
            BillingError::CampaignClosed { .. } => (StatusCode::CONFLICT, "campaign-closed"),
            BillingError::CampaignRunning { .. } => (StatusCode::CONFLICT, "campaign-running"),
            BillingError::CommitmentOverlap { .. } => (StatusCode::CONFLICT, "commitment-overlap"),
            BillingError::CommitmentEnded { .. } => (StatusCode::CONFLICT, "commitment-ended"),
            BillingError::UndeclaredMetric { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "undeclared-metric")
            }
            BillingError::CloseOrder(e) => (StatusCode::CONFLICT, close_order_code(&e)),
            BillingError::Close(_) => (StatusCode::UNPROCESSABLE_ENTITY, "cannot-close"),
            BillingError::Corrupt(_) => (StatusCode::INTERNAL_SERVER_ERROR, "corrupt-data"),
            BillingError::Ledger(_) | BillingError::Encode { .. } => {
                return internal(message);
            }
            BillingError::Database(e) => return e.into(),
        };
        ApiError::new(status, code, message)
    }
}

fn input_code(e: &InputError) -> &'static str {
    match e {
        InputError::OutOfRange { .. } => "out-of-range",
        InputError::Empty { .. } => "empty-field",
        InputError::Reversed { .. } => "reversed-period-range",
        InputError::TooLong { .. } => "too-long",
        InputError::Period { .. } => "period-out-of-range",
        InputError::Closed { .. } => "period-closed",
        InputError::Invalid { .. } => "invalid-field",
    }
}

fn plan_code(e: &PlanError) -> &'static str {
    match e {
        PlanError::UndeclaredMetric { .. } | PlanError::UndeclaredOperation { .. } => {
            "plan-undeclared-meter"
        }
        PlanError::Currency { .. } => "plan-currency",
        PlanError::NegativeFreeUnits { .. }
        | PlanError::EmptyFuelBlock { .. }
        | PlanError::HostTimeBlock { .. }
        | PlanError::UnnamedMetric { .. }
        | PlanError::NegativePrice { .. }
        | PlanError::OutOfRange { .. }
        | PlanError::Tiers { .. } => "invalid-plan",
    }
}

fn close_order_code(e: &CloseOrderError) -> &'static str {
    match e {
        CloseOrderError::NotStarted { .. } => "period-not-started",
        CloseOrderError::UnderWay { .. } => "period-under-way",
        CloseOrderError::Passed { .. } => "period-passed",
        CloseOrderError::OutOfOrder { .. } => "close-out-of-order",
    }
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        let message = e.to_string();
        let (status, code) = match e {
            WebhookError::InvalidUrl(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid-webhook-url")
            }
            WebhookError::PrivateAddress { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, "webhook-address-refused")
            }
            WebhookError::Unresolvable { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "webhook-host-unresolvable",
            ),
            WebhookError::TooMany { .. } => (StatusCode::CONFLICT, "too-many-webhooks"),
            WebhookError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            WebhookError::Database(e) => return e.into(),
        };
        ApiError::new(status, code, message)
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        ApiError::forbidden(e.to_string())
    }
}

impl From<spleis_platform::Error> for ApiError {
    fn from(e: spleis_platform::Error) -> Self {
        use spleis_platform::Error;
        match e {
            Error::Access(e) => e.into(),
            Error::Invalid(message) => ApiError::bad_request(message),
            Error::NotFound(message) => ApiError::new(StatusCode::NOT_FOUND, "not-found", message),
            Error::NotInstalled(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not-installed", e.to_string())
            }
            Error::Account(e) => e.into(),
            Error::Registry(e) => e.into(),
            Error::Install(e) => e.into(),
            Error::Publish(e) => e.into(),
            Error::Call(e) => e.into(),
            Error::Billing(e) => e.into(),
            Error::Webhook(e) => e.into(),
            Error::Wishlist(e) => e.into(),
            Error::Database(e) => e.into(),
        }
    }
}

impl From<WishlistError> for ApiError {
    fn from(e: WishlistError) -> Self {
        let message = e.to_string();
        let (status, code) = match e {
            WishlistError::Input(e) => (StatusCode::UNPROCESSABLE_ENTITY, input_code(&e)),
            WishlistError::NotFound(_) => (StatusCode::NOT_FOUND, "unknown-request"),
            WishlistError::NoNamespace(_) => (StatusCode::NOT_FOUND, "unknown-namespace"),
            WishlistError::Transition { .. } => (StatusCode::CONFLICT, "status-transition"),
            WishlistError::NoVotes { .. } => (StatusCode::CONFLICT, "no-votes"),
            WishlistError::Duplicate(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-duplicate"),
            WishlistError::Refused(_) => (StatusCode::CONFLICT, "refused"),
            WishlistError::NotBuilder(_) => (StatusCode::FORBIDDEN, "forbidden"),
            WishlistError::Billing(e) => return e.into(),
            WishlistError::Database(e) => return e.into(),
        };
        ApiError::new(status, code, message)
    }
}
