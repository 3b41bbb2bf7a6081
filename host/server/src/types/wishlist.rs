//! The wishlist's bodies and answers over HTTP, and the domain's words
//! they carry.

use serde::{Deserialize, Serialize};
pub use spleis_domain::wishlist::{
    Assessment, Comment, Delivery, HistoryEntry, NewDelivery, NewFunding, NewRequest,
    RequestDetail, RequestSort, RequestStatus, RequestSummary,
};
use utoipa::ToSchema;

/// A list of requests.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Requests {
    /// The requests.
    pub requests: Vec<RequestSummary>,
}

/// `POST /v1/requests/{id}/comments`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// The comment (1 to 4,000 characters).
    #[schema(min_length = 1, max_length = 4000)]
    pub body: String,
}
