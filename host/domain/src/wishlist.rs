//! The wishlist: tenants' feature requests, the votes behind them, the
//! operator's assessment, funding to go first and the delivery that closes
//! one. Every tenant sees every request (shared development is the point),
//! never who posted, voted or pledged: those are the operator's to see, and
//! a tenant's own.

use crate::DatabaseError;
use crate::billing::{BillingError, CampaignRecord};
use serde::{Deserialize, Serialize};
use spleis_billing::bounds::InputError;

/// The most characters of a request's title.
pub const MAX_TITLE_CHARS: usize = 120;
/// The most characters of the problem a request solves.
pub const MAX_PROBLEM_CHARS: usize = 4_000;
/// The most characters of a request's details, of a comment, of a reason.
pub const MAX_BODY_CHARS: usize = 10_000;
/// The most characters of a comment.
pub const MAX_COMMENT_CHARS: usize = 4_000;
/// The most comments a request keeps: its page stays readable whoever
/// writes.
pub const MAX_COMMENTS: i64 = 500;
/// The most requests a list answers.
pub const MAX_LIST: u32 = 500;
/// How many similar requests are offered while typing.
pub const SIMILAR: u32 = 5;
/// The most words a search uses (the rest are ignored).
pub const MAX_SEARCH_WORDS: usize = 12;

/// Where a request stands.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum RequestStatus {
    /// Posted, not looked at yet.
    Open,
    /// The operator is assessing it.
    UnderReview,
    /// On the development list, free, no date promised.
    Accepted,
    /// Not taken: the reason is shown to everyone.
    Declined,
    /// The same as another request, which took its votes and subscribers.
    Duplicate,
    /// Its turn is coming (or its funding was reached).
    Planned,
    /// Being built.
    InProgress,
    /// A published plugin version delivers it.
    Delivered,
}

impl RequestStatus {
    /// Every status, in the order a request moves through them.
    pub const ALL: [RequestStatus; 8] = [
        RequestStatus::Open,
        RequestStatus::UnderReview,
        RequestStatus::Accepted,
        RequestStatus::Declined,
        RequestStatus::Duplicate,
        RequestStatus::Planned,
        RequestStatus::InProgress,
        RequestStatus::Delivered,
    ];

    /// The name stored and shown: `under-review`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::UnderReview => "under-review",
            RequestStatus::Accepted => "accepted",
            RequestStatus::Declined => "declined",
            RequestStatus::Duplicate => "duplicate",
            RequestStatus::Planned => "planned",
            RequestStatus::InProgress => "in-progress",
            RequestStatus::Delivered => "delivered",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<RequestStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the request still takes votes: not declined, merged or done.
    pub fn takes_votes(self) -> bool {
        !matches!(
            self,
            RequestStatus::Declined | RequestStatus::Duplicate | RequestStatus::Delivered
        )
    }

    /// Whether the operator may move a request from `self` to `next` by an
    /// assessment. `delivered` is reached only by a delivery, which names
    /// the plugin version; `declined` and `duplicate` are final.
    pub fn may_become(self, next: RequestStatus) -> bool {
        use RequestStatus::*;
        matches!(
            (self, next),
            (Open, UnderReview | Accepted | Declined | Duplicate)
                | (UnderReview, Open | Accepted | Declined | Duplicate)
                | (
                    Accepted,
                    UnderReview | Declined | Duplicate | Planned | InProgress
                )
                | (Planned, Accepted | InProgress)
                | (InProgress, Planned)
        )
    }

    /// Whether a delivery may close a request in this status.
    pub fn may_deliver(self) -> bool {
        matches!(
            self,
            RequestStatus::Accepted | RequestStatus::Planned | RequestStatus::InProgress
        )
    }
}

impl std::fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A new request, as a tenant posts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// What is wanted, in a line.
    #[schema(min_length = 1, max_length = 120)]
    pub title: String,
    /// The problem it solves, for whom.
    #[schema(min_length = 1, max_length = 4000)]
    pub problem: String,
    /// Anything else: examples, constraints.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub details: String,
}

impl NewRequest {
    /// The request with its texts trimmed, or the field that is out of range.
    pub fn checked(&self) -> Result<NewRequest, InputError> {
        Ok(NewRequest {
            title: line("the title", &self.title, MAX_TITLE_CHARS, true)?,
            problem: body("the problem", &self.problem, MAX_PROBLEM_CHARS, true)?,
            details: body("the details", &self.details, MAX_BODY_CHARS, false)?,
        })
    }
}

/// A one-line text: trimmed, no control characters, within `max`.
pub fn line(
    field: &'static str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<String, InputError> {
    let text = text.trim();
    if text.chars().any(char::is_control) {
        return Err(InputError::Invalid {
            field,
            why: "it contains a control character (a line break, tab or NUL); write one line"
                .into(),
        });
    }
    bounded(field, text, max, required)
}

/// A text of paragraphs: trimmed, line breaks and tabs allowed, no other
/// control characters, within `max`.
pub fn body(
    field: &'static str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<String, InputError> {
    let text = text.trim();
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(InputError::Invalid {
            field,
            why: "it contains a control character other than a line break or tab".into(),
        });
    }
    bounded(field, text, max, required)
}

fn bounded(
    field: &'static str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<String, InputError> {
    if required && text.is_empty() {
        return Err(InputError::Invalid {
            field,
            why: "it is empty".into(),
        });
    }
    spleis_billing::bounds::text(field, text, max)?;
    Ok(text.to_owned())
}

/// The words of a search, for the database's full-text index: letters and
/// digits only (so nothing the user types is query syntax), lower-cased,
/// at least two characters, common English words left out, each once, at
/// most [`MAX_SEARCH_WORDS`].
pub fn search_words(query: &str) -> Vec<String> {
    const COMMON: &[&str] = &[
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "for", "from", "has",
        "have", "i", "if", "in", "is", "it", "its", "my", "no", "not", "of", "on", "or", "our",
        "so", "that", "the", "their", "them", "there", "this", "to", "us", "was", "we", "what",
        "when", "which", "who", "will", "with", "would", "you", "your",
    ];
    let mut words: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() < 2 || COMMON.contains(&word.as_str()) || words.contains(&word) {
            continue;
        }
        words.push(word);
        if words.len() == MAX_SEARCH_WORDS {
            break;
        }
    }
    words
}

/// How a list of requests is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RequestSort {
    /// Most votes first (then newest).
    #[default]
    Votes,
    /// Newest first.
    Newest,
}

/// What a list of requests asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestQuery {
    /// Words that must all occur (title, problem, details).
    pub words: Vec<String>,
    /// Only this status.
    pub status: Option<RequestStatus>,
    /// The order.
    pub sort: RequestSort,
    /// At most this many.
    pub limit: u32,
}

/// A request as a list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequestSummary {
    /// Its number.
    pub id: i64,
    /// What is wanted.
    pub title: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// Tenants voting for it.
    pub votes: u32,
    /// Comments on it.
    pub comments: u32,
    /// When it was posted, Unix ms.
    pub created_at: i64,
    /// Whether the viewer posted it.
    pub posted_by_you: bool,
    /// Whether the viewer votes for it.
    pub voted: bool,
}

/// A plugin version that delivers a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    /// The plugin, `namespace/name`.
    pub package: String,
    /// The version.
    pub version: String,
    /// When, Unix ms.
    pub at: i64,
}

/// A comment on a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Comment {
    /// Its number.
    pub id: i64,
    /// The text.
    pub body: String,
    /// When, Unix ms.
    pub at: i64,
    /// Whether the viewer wrote it.
    pub by_you: bool,
    /// Whether the operator wrote it (the platform speaks openly).
    pub by_operator: bool,
    /// Who wrote it: shown to the operator only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// One change in a request's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// When, Unix ms.
    pub at: i64,
    /// The status before; none for the posting.
    pub from: Option<RequestStatus>,
    /// The status after.
    pub to: RequestStatus,
    /// Why, or what happened (a merge, a delivery, funding).
    pub note: String,
    /// Whether the operator made the change.
    pub by_operator: bool,
    /// Who made it: shown to the operator only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// One request with everything a reader sees.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequestDetail {
    /// Its number.
    pub id: i64,
    /// What is wanted.
    pub title: String,
    /// The problem it solves.
    pub problem: String,
    /// Anything else.
    pub details: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// Why it was declined (shown to everyone), or the last assessment's reason.
    pub reason: Option<String>,
    /// The request it duplicates.
    pub duplicate_of: Option<i64>,
    /// The namespace that builds it.
    pub builder: Option<String>,
    /// The plugin version that delivers it.
    pub delivery: Option<Delivery>,
    /// Tenants voting for it.
    pub votes: u32,
    /// When it was posted, Unix ms.
    pub created_at: i64,
    /// When it last changed, Unix ms.
    pub updated_at: i64,
    /// Whether the viewer posted it.
    pub posted_by_you: bool,
    /// Whether the viewer votes for it.
    pub voted: bool,
    /// Whether the viewer is told of its changes.
    pub subscribed: bool,
    /// Who posted it and who votes: the operator's to see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posted_by: Option<String>,
    /// The voting tenants: the operator's to see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voters: Option<Vec<String>>,
    /// Its funding, if any was opened (the live one, else the last).
    pub funding: Option<CampaignRecord>,
    /// The comments, oldest first.
    pub comments: Vec<Comment>,
    /// Its history, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// The operator's assessment of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    /// The new status (`delivered` is reached by a delivery).
    pub status: RequestStatus,
    /// Why: required to decline, shown to everyone.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub reason: Option<String>,
    /// The original, when marking a duplicate.
    #[serde(default)]
    pub duplicate_of: Option<i64>,
    /// The namespace that will build it.
    #[serde(default)]
    pub builder: Option<String>,
}

/// Funding to go first, as the operator opens it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFunding {
    /// The goal, minor units of the platform's currency.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
    pub goal_minor: i64,
    /// The funders' return on top, basis points (1000 = 10%).
    #[schema(maximum = 10000)]
    pub return_bps: u32,
    /// When pledging ends, Unix ms.
    pub deadline_ms: i64,
    /// The namespace that will build it; its plugin delivers the request.
    pub builder: String,
}

/// The plugin version that delivers a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDelivery {
    /// The plugin, `namespace/name`, in the builder's namespace.
    pub package: String,
    /// A published version of it.
    pub version: String,
}

/// Why a wishlist operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum WishlistError {
    /// A field is out of its range.
    #[error(transparent)]
    Input(#[from] InputError),
    /// No request with this number.
    #[error("no request #{0}")]
    NotFound(i64),
    /// The status change is not one a request can make.
    #[error("request #{id} is {from}: it cannot become {to}{hint}")]
    Transition {
        /// The request.
        id: i64,
        /// Its status.
        from: RequestStatus,
        /// The status asked for.
        to: RequestStatus,
        /// What to do instead.
        hint: String,
    },
    /// The request takes no votes in its status.
    #[error("request #{id} is {status}: it takes no votes{hint}")]
    NoVotes {
        /// The request.
        id: i64,
        /// Its status.
        status: RequestStatus,
        /// Where to vote instead.
        hint: String,
    },
    /// A duplicate must name another request that is not itself merged.
    #[error("{0}")]
    Duplicate(String),
    /// Funding cannot be opened, or the delivery does not fit.
    #[error("{0}")]
    Refused(String),
    /// Only the operator or an owner of the builder's namespace delivers.
    #[error("{0}")]
    NotBuilder(String),
    /// A namespace that does not exist.
    #[error("no namespace `{0}`: a builder is a namespace an author owns")]
    NoNamespace(String),
    /// Money (the campaign behind the funding).
    #[error(transparent)]
    Billing(#[from] BillingError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] DatabaseError),
}

/// The longest a request's funding may run: a year and a day.
pub const MAX_FUNDING_MS: i64 = 366 * 24 * 3600 * 1000;

impl NewFunding {
    /// Checks the funding's figures where they enter.
    pub fn check(&self, now: i64) -> Result<(), InputError> {
        use spleis_billing::bounds::{bps, positive};
        positive("the goal", self.goal_minor)?;
        bps("the return", self.return_bps)?;
        if self.deadline_ms <= now || self.deadline_ms > now.saturating_add(MAX_FUNDING_MS) {
            return Err(InputError::OutOfRange {
                field: "the deadline",
                value: self.deadline_ms,
                unit: "ms since the epoch",
                range: format!(
                    "after now ({now}) and at most a year and a day ahead ({})",
                    now.saturating_add(MAX_FUNDING_MS)
                ),
            });
        }
        line("the builder", &self.builder, 64, true)?;
        Ok(())
    }
}

/// Whether funding may open on a request: it must be accepted (on the
/// development list) and have no funding open or reached.
pub fn may_open_funding(
    id: i64,
    status: RequestStatus,
    live: Option<&CampaignRecord>,
) -> Result<(), WishlistError> {
    if let Some(live) = live {
        return Err(WishlistError::Refused(format!(
            "request #{id} has funding already: campaign {} is {}",
            live.id, live.status
        )));
    }
    if status != RequestStatus::Accepted {
        return Err(WishlistError::Refused(format!(
            "request #{id} is {status}: funding opens only on an accepted request"
        )));
    }
    Ok(())
}

/// A pledge toward a request's funding: above zero and within what is
/// left of the goal, so the funding reaches its goal exactly and never
/// more. Answers whether this pledge reaches it.
pub fn pledge_toward(goal: i64, others: i64, amount: i64) -> Result<bool, WishlistError> {
    spleis_billing::bounds::positive("a pledge", amount)?;
    let left = goal.saturating_sub(others);
    if amount > left {
        return Err(WishlistError::Refused(format!(
            "a pledge of {amount} minor units is more than the {left} left to reach the goal of {goal}"
        )));
    }
    Ok(amount == left)
}

/// Checks an assessment of `row` (its status, the original it names, its
/// funding's status) and answers the history's note.
pub fn check_assessment(
    id: i64,
    from: RequestStatus,
    assessment: &Assessment,
    original: Option<(i64, RequestStatus, Option<i64>)>,
    funding: Option<&str>,
) -> Result<String, WishlistError> {
    let to = assessment.status;
    if to == RequestStatus::Delivered {
        return Err(WishlistError::Transition {
            id,
            from,
            to,
            hint: "; a delivery names the plugin and version: POST /v1/requests/{id}/delivery"
                .into(),
        });
    }
    if !from.may_become(to) {
        return Err(WishlistError::Transition {
            id,
            from,
            to,
            hint: String::new(),
        });
    }
    match funding {
        Some("open") => {
            return Err(WishlistError::Refused(format!(
                "request #{id} has funding open: it is reached or lapses first"
            )));
        }
        Some("funded") if !matches!(to, RequestStatus::Planned | RequestStatus::InProgress) => {
            return Err(WishlistError::Refused(format!(
                "request #{id} is funded: its funders were invoiced, so it is planned, in progress or delivered"
            )));
        }
        _ => {}
    }
    let reason = assessment.reason.as_deref().unwrap_or("").trim();
    if to == RequestStatus::Declined && reason.is_empty() {
        return Err(InputError::Empty {
            field: "the reason",
            hint: "say why it is declined: everyone sees it",
        }
        .into());
    }
    let note = match (to, assessment.duplicate_of, original) {
        (RequestStatus::Duplicate, None, _) => {
            return Err(WishlistError::Duplicate(
                "a duplicate names its original: duplicate_of".into(),
            ));
        }
        (RequestStatus::Duplicate, Some(of), _) if of == id => {
            return Err(WishlistError::Duplicate(format!(
                "request #{id} cannot duplicate itself"
            )));
        }
        (RequestStatus::Duplicate, Some(of), Some((_, RequestStatus::Duplicate, root))) => {
            let root = root.map_or(String::new(), |r| format!(": mark it a duplicate of #{r}"));
            return Err(WishlistError::Duplicate(format!(
                "#{of} is itself a duplicate{root}"
            )));
        }
        (RequestStatus::Duplicate, Some(of), None) => return Err(WishlistError::NotFound(of)),
        (RequestStatus::Duplicate, Some(of), Some((_, status, _))) if !status.takes_votes() => {
            return Err(WishlistError::Duplicate(format!(
                "#{of} is {status}: it takes no votes, so nothing can be merged into it"
            )));
        }
        (RequestStatus::Duplicate, Some(of), Some(_)) => format!("duplicate of #{of}"),
        (_, Some(_), _) => {
            return Err(WishlistError::Duplicate(
                "duplicate_of goes with the status duplicate only".into(),
            ));
        }
        // The entry shows from and to already: its note is the reason.
        _ if reason.is_empty() => return Ok("assessed".into()),
        _ => return Ok(reason.to_owned()),
    };
    Ok(if reason.is_empty() {
        note
    } else {
        format!("{note}: {reason}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn search_words_drop_syntax_and_common_words() {
        assert_eq!(
            search_words("Export the invoices to \"CSV\" OR* NEAR(x) -- and PDF!"),
            ["export", "invoices", "csv", "near", "pdf"]
        );
        assert!(search_words("a an the ! ?").is_empty());
    }

    #[test]
    fn a_request_reaches_delivered_only_by_a_delivery_and_final_states_stay() {
        for to in RequestStatus::ALL {
            assert!(!RequestStatus::Open.may_become(RequestStatus::Delivered));
            assert!(!RequestStatus::Declined.may_become(to));
            assert!(!RequestStatus::Duplicate.may_become(to));
            assert!(!RequestStatus::Delivered.may_become(to));
            assert!(!to.may_become(to), "{to} to itself is no change");
        }
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        let ok = NewRequest {
            title: "  CSV export ".into(),
            problem: "We retype\ninvoices.".into(),
            details: String::new(),
        }
        .checked()
        .unwrap();
        assert_eq!(ok.title, "CSV export");
        let long = NewRequest {
            title: "x".repeat(MAX_TITLE_CHARS + 1),
            ..ok.clone()
        };
        assert!(long.checked().unwrap_err().to_string().contains("title"));
        let nul = NewRequest {
            title: "a\0b".into(),
            ..ok.clone()
        };
        assert!(nul.checked().is_err());
        let empty = NewRequest {
            problem: "   ".into(),
            ..ok
        };
        assert!(empty.checked().unwrap_err().to_string().contains("problem"));
    }

    #[test]
    fn pledges_reach_the_goal_exactly_and_never_pass_it() {
        assert!(pledge_toward(1_000_000, 600_000, 400_000).unwrap());
        assert!(!pledge_toward(1_000_000, 0, 600_000).unwrap());
        assert!(pledge_toward(1_000_000, 600_000, 400_001).is_err());
        assert!(pledge_toward(1_000_000, 0, 0).is_err());
        assert!(pledge_toward(1_000_000, 0, -5).is_err());
    }

    #[test]
    fn duplicates_name_another_request_that_is_no_duplicate() {
        let dup = |of| Assessment {
            status: RequestStatus::Duplicate,
            reason: None,
            duplicate_of: Some(of),
            builder: None,
        };
        let open = RequestStatus::Open;
        assert!(check_assessment(3, open, &dup(3), None, None).is_err());
        assert!(
            check_assessment(
                3,
                open,
                &dup(2),
                Some((2, RequestStatus::Duplicate, Some(1))),
                None
            )
            .unwrap_err()
            .to_string()
            .contains("#1")
        );
        assert_eq!(
            check_assessment(
                3,
                open,
                &dup(1),
                Some((1, RequestStatus::Accepted, None)),
                None
            )
            .unwrap(),
            "duplicate of #1"
        );
        let decline = Assessment {
            status: RequestStatus::Declined,
            reason: Some("  ".into()),
            duplicate_of: None,
            builder: None,
        };
        assert!(check_assessment(3, open, &decline, None, None).is_err());
        let plan = Assessment {
            status: RequestStatus::Planned,
            ..decline
        };
        assert!(check_assessment(3, RequestStatus::Accepted, &plan, None, Some("open")).is_err());
        assert!(check_assessment(3, RequestStatus::Accepted, &plan, None, None).is_ok());
    }

    proptest! {
        #[test]
        fn pledges_never_take_a_funding_past_its_goal(goal in 1_i64..1_000_000_000, parts in proptest::collection::vec(1_i64..500_000_000, 0..20)) {
            let mut pledged = 0_i64;
            let mut reached = false;
            for amount in parts {
                prop_assert!(!reached || pledge_toward(goal, pledged, amount).is_err());
                if let Ok(hit) = pledge_toward(goal, pledged, amount) {
                    pledged += amount;
                    reached = hit;
                }
                prop_assert!(pledged <= goal);
                prop_assert_eq!(reached, pledged == goal);
            }
        }

        #[test]
        fn search_words_are_plain_words_whatever_is_typed(query in "\\PC{0,300}") {
            let words = search_words(&query);
            prop_assert!(words.len() <= MAX_SEARCH_WORDS);
            for word in &words {
                prop_assert!(word.chars().all(char::is_alphanumeric));
                prop_assert!(word.chars().count() >= 2);
            }
        }

        #[test]
        fn checked_requests_stay_within_bounds(title in "\\PC{0,200}", problem in "\\PC{0,50}") {
            let request = NewRequest { title, problem, details: String::new() };
            if let Ok(checked) = request.checked() {
                prop_assert!(!checked.title.is_empty());
                prop_assert!(checked.title.chars().count() <= MAX_TITLE_CHARS);
                prop_assert!(!checked.title.chars().any(char::is_control));
            }
        }
    }
}
