//! The wishlist: every request with its status, votes and comments
//! (search, a status filter, by votes or newest), a tenant's vote, the form
//! that posts a request (with the similar requests already there, offered
//! while the title is typed by `assets/wishlist.js` from
//! `/wishlist/similar`, or by the form's "Check" button without script),
//! and a request's page: its texts, comments, history and funding (a
//! tenant's pledge), the operator's assessment, the funding it opens and
//! the delivery (the operator, or an owner of the builder's namespace).
//!
//! Who posted, voted, commented or pledged is never on a tenant's page
//! (the platform answers a tenant only its own): "you" and "operator" are
//! the only names a tenant reads. A refusal the viewer can correct is
//! shown on the page it acted on, with what it typed kept in the form.

use super::currency;
use super::investor::{parse_amount, parse_day_end};
use crate::ConsoleState;
use crate::chart::progress;
use crate::page::{PageError, csrf, empty, error_card, money, notice, page_with};
use crate::session::{Fields, Posted};
use crate::viewer::Viewer;
use axum::Json;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use spleis_billing::Currency;
use spleis_domain::accounts::Role;
use spleis_domain::billing::CampaignRecord;
use spleis_domain::wishlist::{
    Assessment, MAX_BODY_CHARS, MAX_PROBLEM_CHARS, MAX_TITLE_CHARS, NewDelivery, NewFunding,
    NewRequest, RequestDetail, RequestSort, RequestStatus, RequestSummary,
};

/// The most requests the page lists.
const LIST: u32 = 200;
/// The most characters of a search or a title looked up as typed.
const MAX_QUERY_CHARS: usize = 200;
/// The page's own script.
const SCRIPT: &str = "/assets/wishlist.js";

/// The wishlist's query: words, a status, an order, and what was just done.
#[derive(Deserialize, Default)]
pub struct WishlistQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    done: String,
}

/// A status typed in a query or a form: none for "any".
fn status_named(name: &str) -> Result<Option<RequestStatus>, PageError> {
    match name.trim() {
        "" | "any" => Ok(None),
        name => RequestStatus::parse(name).map(Some).ok_or_else(|| {
            PageError::BadRequest(format!(
                "`{name}` is not a status: {}",
                RequestStatus::ALL.map(RequestStatus::as_str).join(", ")
            ))
        }),
    }
}

/// The first `MAX_QUERY_CHARS` characters of a query.
fn bounded_query(q: &str) -> String {
    q.trim().chars().take(MAX_QUERY_CHARS).collect()
}

/// A status as a badge.
fn badge(status: RequestStatus) -> Markup {
    html! { span class=(format!("badge status-{status}")) { (status.as_str()) } }
}

/// "1 vote", "3 votes".
fn votes(n: u32) -> String {
    if n == 1 {
        "1 vote".into()
    } else {
        format!("{n} votes")
    }
}

/// What a finished action says on the page it leads back to: fixed texts,
/// so nothing in an address is ever shown.
fn done_text(done: &str) -> Option<&'static str> {
    Some(match done {
        "posted" => "Your request is posted, and you are told of its changes.",
        "voted" => "Your vote is counted.",
        "unvoted" => "Your vote is withdrawn.",
        "subscribed" => "You are told of this request's changes.",
        "unsubscribed" => "You are no longer told of this request's changes.",
        "commented" => "Your comment is added.",
        "pledged" => "Your pledge is recorded. Nothing is invoiced unless the goal is reached.",
        "assessed" => "The assessment is saved, and the request's subscribers are told.",
        "funding" => "Funding is open: tenants may pledge until its deadline.",
        "delivered" => "The request is delivered.",
        _ => return None,
    })
}

/// The list's link back, from the raw query the browser sent: only a
/// wishlist address of plain characters (it becomes a `Location`).
fn back_to_list(raw: Option<&str>) -> String {
    match raw {
        Some(raw) if !raw.is_empty() => format!("/wishlist?{raw}"),
        _ => "/wishlist".into(),
    }
}

/// Whether `back` is an address of the wishlist's list to return to.
fn is_list_address(back: &str) -> bool {
    (back == "/wishlist" || back.starts_with("/wishlist?"))
        && back.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether a refusal is the viewer's to correct (shown on the page with
/// the form as it was typed) rather than an error page: a value out of
/// range, a name that does not exist, a step that cannot be taken now.
fn correctable(error: &PageError) -> bool {
    match error {
        PageError::BadRequest(_) => true,
        PageError::Platform(_) => matches!(
            error.status(),
            StatusCode::BAD_REQUEST
                | StatusCode::NOT_FOUND
                | StatusCode::CONFLICT
                | StatusCode::UNPROCESSABLE_ENTITY
        ),
        _ => false,
    }
}

/// A refused form: which one, why, and what was typed in it.
struct Refused<'a> {
    form: &'static str,
    message: String,
    fields: &'a Fields,
}

/// What `form`'s `field` held when it was refused.
fn kept<'a>(refused: Option<&'a Refused<'_>>, form: &str, field: &str) -> Option<&'a str> {
    refused
        .filter(|r| r.form == form)
        .and_then(|r| r.fields.0.iter().find(|(n, _)| n == field))
        .map(|(_, v)| v.as_str())
}

/// The similar requests as a list (the script draws the same).
fn similar_list(similar: &[RequestSummary]) -> Markup {
    html! {
        @if !similar.is_empty() {
            p { "Similar requests:" }
            ul.plain {
                @for r in similar {
                    li data-request=(r.id) {
                        a href=(format!("/wishlist/{}", r.id)) { "#" (r.id) " " (r.title) }
                        " (" (r.status) ", " (votes(r.votes)) ")"
                        @if r.voted { " — you vote for it" }
                        @else if r.status.takes_votes() {
                            " — " a.vote-instead href=(format!("/wishlist/{}#vote", r.id)) { "vote instead?" }
                        }
                    }
                }
            }
        }
    }
}

/// The vote button of a request for a tenant.
fn vote_form(viewer: &Viewer, id: i64, voted: bool, back: &str) -> Markup {
    html! {
        form.inline.vote method="post" action=(format!("/wishlist/{id}/vote")) {
            (csrf(viewer))
            input type="hidden" name="on" value=(if voted { "0" } else { "1" });
            input type="hidden" name="back" value=(back);
            @if voted {
                button.secondary type="submit" aria-label=(format!("Withdraw your vote for #{id}")) { "Withdraw vote" }
            } @else {
                button type="submit" aria-label=(format!("Vote for #{id}")) { "Vote" }
            }
        }
    }
}

/// The wishlist page: the operator's queue, the search, the list, and
/// the form that posts a request (with `draft` kept, the similar requests
/// to it, and why it was refused).
async fn wishlist_page(
    state: &ConsoleState,
    viewer: &Viewer,
    query: &WishlistQuery,
    raw: Option<&str>,
    draft: Option<&Fields>,
    refused: Option<&str>,
) -> Result<Markup, PageError> {
    let actor = &viewer.actor;
    let role = actor.role();
    let operator = role == Role::Operator;
    let tenant = role == Role::Tenant;
    let can_post = tenant || operator;
    let locale = viewer.locale;
    let q = bounded_query(&query.q);
    let status = status_named(&query.status)?;
    let sort = match query.sort.as_str() {
        "newest" => RequestSort::Newest,
        _ => RequestSort::Votes,
    };
    let list = state
        .platform
        .requests(actor, &q, status, sort, LIST)
        .await?;
    // The operator's queue: what waits for an assessment, oldest first.
    let mut queue = Vec::new();
    if operator {
        for waiting in [RequestStatus::Open, RequestStatus::UnderReview] {
            queue.extend(
                state
                    .platform
                    .requests(actor, "", Some(waiting), RequestSort::Newest, LIST)
                    .await?,
            );
        }
        queue.sort_by_key(|r| (r.created_at, r.id));
    }
    let field = |name: &str| draft.and_then(|d| d.get(name)).unwrap_or("");
    let similar = match draft.map(|d| d.get("title").unwrap_or("")) {
        Some(title) if !title.is_empty() => {
            state
                .platform
                .similar_requests(actor, &bounded_query(title))
                .await?
        }
        _ => Vec::new(),
    };
    let back = back_to_list(raw);
    let body = html! {
        @if let Some(message) = refused { (error_card(message)) }
        @if let Some(text) = done_text(&query.done) { (notice(text)) }
        p.lead { "What tenants want built. Every tenant sees every request, its votes, comments and history; who posted, voted or pledged is not shown." }
        @if can_post { p { a href="#post" { "Post a request" } } }
        @if operator {
            section.card #queue aria-labelledby="queue-h" {
                h2 #queue-h { "Waiting for assessment" }
                @if queue.is_empty() { (empty("Nothing waits: every request is assessed.")) }
                @else {
                    table.figures {
                        thead { tr { th.num scope="col" { "#" } th scope="col" { "Request" } th scope="col" { "Status" } th.num scope="col" { "Votes" } th scope="col" { "Posted" } } }
                        tbody {
                            @for r in &queue {
                                tr data-request=(r.id) {
                                    td.num { (r.id) }
                                    td { a href=(format!("/wishlist/{}", r.id)) { (r.title) } }
                                    td { (badge(r.status)) }
                                    td.num { (r.votes) }
                                    td { (locale.date(r.created_at)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.search role="search" method="get" action="/wishlist" {
            label for="q" { "Search requests" }
            input #q type="search" name="q" value=(q) maxlength=(MAX_QUERY_CHARS);
            label for="status-filter" { "Status" }
            select #status-filter name="status" {
                option value="" selected[status.is_none()] { "any" }
                @for s in RequestStatus::ALL {
                    option value=(s.as_str()) selected[status == Some(s)] { (s.as_str()) }
                }
            }
            label for="sort" { "Sort by" }
            select #sort name="sort" {
                option value="votes" selected[sort == RequestSort::Votes] { "votes" }
                option value="newest" selected[sort == RequestSort::Newest] { "newest" }
            }
            button type="submit" { "Show" }
        }
        @if list.is_empty() { (empty("No request matches.")) }
        @else {
            table.figures #requests {
                thead { tr {
                    th.num scope="col" { "#" } th scope="col" { "Request" } th scope="col" { "Status" }
                    th.num scope="col" { "Votes" } th.num scope="col" { "Comments" } th scope="col" { "Posted" }
                    @if tenant { th scope="col" { "Your vote" } }
                } }
                tbody {
                    @for r in &list {
                        tr data-request=(r.id) {
                            td.num { (r.id) }
                            td {
                                a href=(format!("/wishlist/{}", r.id)) { (r.title) }
                                @if r.posted_by_you { span.marker { "yours" } }
                            }
                            td.status { (badge(r.status)) }
                            td.num.votes data-votes=(r.votes) { (r.votes) }
                            td.num.comments data-comments=(r.comments) { (r.comments) }
                            td { (locale.date(r.created_at)) }
                            @if tenant {
                                td {
                                    @if r.status.takes_votes() { (vote_form(viewer, r.id, r.voted, &back)) }
                                    @else if r.voted { "voted" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if can_post {
            section.card #post aria-labelledby="post-h" {
                h2 #post-h { "Post a request" }
                p { "Say what you need and the problem it solves. The operator assesses each request: it is taken when it helps other tenants too. Before posting, look at the similar requests offered: a vote for one of them counts as much." }
                form.stack method="post" action="/wishlist" {
                    (csrf(viewer))
                    label for="title" { "Title (what is wanted, in a line)" }
                    input #title name="title" required maxlength=(MAX_TITLE_CHARS) autocomplete="off" value=(field("title"));
                    div #similar aria-live="polite" { (similar_list(&similar)) }
                    label for="problem" { "The problem it solves, and for whom" }
                    textarea #problem name="problem" rows="4" required maxlength=(MAX_PROBLEM_CHARS) { (field("problem")) }
                    label for="details" { "Details (optional: examples, constraints)" }
                    textarea #details name="details" rows="5" maxlength=(MAX_BODY_CHARS) { (field("details")) }
                    div.buttons {
                        button #post-request type="submit" name="action" value="post" { "Post the request" }
                        button.secondary type="submit" name="action" value="check" formnovalidate { "Check for similar requests" }
                    }
                }
            }
        }
    };
    Ok(page_with(viewer, "Wishlist", "/wishlist", &[SCRIPT], body))
}

/// `/wishlist`: every request, searchable, by votes or newest.
pub async fn wishlist(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
    Query(query): Query<WishlistQuery>,
) -> Result<Markup, PageError> {
    wishlist_page(&state, &viewer, &query, raw.as_deref(), None, None).await
}

/// POST `/wishlist`: posts a request, or (`action=check`, the way without
/// script) shows the similar requests with the form as typed.
pub async fn post(
    State(state): State<ConsoleState>,
    posted: Posted,
) -> Result<Response, PageError> {
    let f = &posted.form;
    let query = WishlistQuery::default();
    if f.get("action") == Some("check") {
        return Ok(
            wishlist_page(&state, &posted.viewer, &query, None, Some(f), None)
                .await?
                .into_response(),
        );
    }
    let request = NewRequest {
        title: f.get("title").unwrap_or("").to_owned(),
        problem: f.get("problem").unwrap_or("").to_owned(),
        details: f.get("details").unwrap_or("").to_owned(),
    };
    match state
        .platform
        .post_request(&posted.viewer.actor, &request)
        .await
    {
        Ok(detail) => {
            tracing::info!(request = detail.id, "request posted from the console");
            Ok(Redirect::to(&format!("/wishlist/{}?done=posted", detail.id)).into_response())
        }
        Err(error) => {
            let error = PageError::from(error);
            if !correctable(&error) {
                return Err(error);
            }
            let page = wishlist_page(
                &state,
                &posted.viewer,
                &query,
                None,
                Some(f),
                Some(&error.to_string()),
            )
            .await?;
            Ok((error.status(), page).into_response())
        }
    }
}

/// `GET /wishlist/similar?q=`.
#[derive(Deserialize, Default)]
pub struct SimilarQuery {
    #[serde(default)]
    q: String,
}

/// A similar request as the script shows it.
#[derive(Serialize)]
pub struct SimilarRequest {
    id: i64,
    title: String,
    status: RequestStatus,
    votes: u32,
    voted: bool,
    votable: bool,
    href: String,
}

/// The answer of `/wishlist/similar`.
#[derive(Serialize)]
pub struct Similar {
    requests: Vec<SimilarRequest>,
}

/// `GET /wishlist/similar?q=`: the requests like the title being typed,
/// for the signed-in account (the platform's `similar_requests`), as JSON
/// for the wishlist's script.
pub async fn similar(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Query(query): Query<SimilarQuery>,
) -> Result<Json<Similar>, PageError> {
    let found = state
        .platform
        .similar_requests(&viewer.actor, &bounded_query(&query.q))
        .await?;
    Ok(Json(Similar {
        requests: found
            .into_iter()
            .map(|r| SimilarRequest {
                href: format!("/wishlist/{}", r.id),
                votable: r.status.takes_votes() && viewer.actor.role() == Role::Tenant,
                id: r.id,
                title: r.title,
                status: r.status,
                votes: r.votes,
                voted: r.voted,
            })
            .collect(),
    }))
}

/// A request's number from its address.
fn request_id(text: &str) -> Result<i64, PageError> {
    text.trim_start_matches('#')
        .parse()
        .ok()
        .filter(|id: &i64| *id > 0)
        .ok_or_else(|| PageError::NotFound(format!("no request `{text}`")))
}

/// The packages the delivery form offers: those in the builder's
/// namespace; for an author, only when it owns that namespace (else the
/// form is not shown: `None`).
async fn deliverable(
    state: &ConsoleState,
    viewer: &Viewer,
    detail: &RequestDetail,
) -> Result<Option<Vec<String>>, PageError> {
    let actor = &viewer.actor;
    let role = actor.role();
    if !detail.status.may_deliver() || role == Role::Tenant {
        return Ok(None);
    }
    let Some(builder) = &detail.builder else {
        // The operator may deliver without a builder named; an author only
        // for its own namespace.
        return Ok((role == Role::Operator).then(Vec::new));
    };
    let prefix = format!("{builder}/");
    let packages: Vec<String> = state
        .platform
        .catalog(actor, None)
        .await?
        .into_iter()
        .map(|p| p.name)
        .filter(|name| name.starts_with(&prefix))
        .collect();
    if role == Role::Operator {
        return Ok(Some(packages));
    }
    let Some(first) = packages.first() else {
        return Ok(None);
    };
    let owners = state.platform.package(actor, first).await?.owners;
    Ok(owners.iter().any(|o| o == actor.id()).then_some(packages))
}

/// The funding of a request: progress, figures, the viewer's pledge and
/// (a tenant, while open) the pledge form; every pledge for the operator.
fn funding_section(
    viewer: &Viewer,
    id: i64,
    funding: &CampaignRecord,
    currency: &Currency,
    delivered_by: Option<&str>,
    refused: Option<&Refused<'_>>,
) -> Markup {
    let locale = viewer.locale;
    let me = viewer.actor.id();
    let tenant = viewer.actor.role() == Role::Tenant;
    let operator = viewer.actor.is_operator();
    let mine = funding.pledges.iter().find(|p| p.tenant == me);
    let left = funding.goal.saturating_sub(funding.pledged).max(0);
    let percent = u32::try_from(
        i128::from(funding.pledged.clamp(0, funding.goal)) * 10_000
            / i128::from(funding.goal.max(1)),
    )
    .unwrap_or(10_000);
    html! {
        section.card #funding aria-labelledby="funding-h" data-status=(funding.status) {
            h2 #funding-h { "Funding to go first" }
            p { "Tenants who cannot wait fund the request together (or one alone). When the goal is reached each pledge is invoiced at the next close; once delivered, each pledge is an investment paid back from the plugin's revenue, with the return on top." }
            (progress(&format!("Pledged toward request #{id}"), funding.pledged, funding.goal))
            p #funding-figures {
                span.pledged { (money(locale, funding.pledged, currency)) } " of "
                span.goal { (money(locale, funding.goal, currency)) } " pledged ("
                (locale.percent(percent)) ") by " (funding.pledge_count)
                @if funding.pledge_count == 1 { " tenant" } @else { " tenants" }
            }
            dl {
                dt { "Status" }
                dd.funding-status {
                    @match funding.status.as_str() {
                        "open" => { "open for pledges until " (locale.date_time(funding.deadline)) }
                        "funded" => {
                            "funded" @if let Some(at) = funding.funded_at { " on " (locale.date(at)) }
                            @match delivered_by {
                                Some(package) => { ": each pledge is now an investment in " (package) }
                                None => { ": each pledge is invoiced at the close" }
                            }
                        }
                        "lapsed" => { "ended short of its goal at " (locale.date(funding.deadline)) ": nothing was invoiced" }
                        other => { (other) }
                    }
                }
                dt { "Deadline" } dd { (locale.date_time(funding.deadline)) }
                dt { "Return for funders" } dd.return { (locale.percent(funding.return_bps)) " on top of the pledge" }
                @if funding.status == "open" { dt { "Left to reach the goal" } dd.left { (money(locale, left, currency)) } }
                @if let Some(mine) = mine { dt { "Your pledge" } dd #my-pledge { (money(locale, mine.amount, currency)) } }
            }
            @if tenant && funding.status == "open" {
                form.inline #pledge method="post" action=(format!("/wishlist/{id}/pledge")) {
                    (csrf(viewer))
                    label for="amount" {
                        @if mine.is_some() { "Change your pledge to (" (currency.code()) ")" }
                        @else { "Your pledge (" (currency.code()) ")" }
                    }
                    input #amount name="amount" inputmode="decimal" required size="10" value=(kept(refused, "pledge", "amount").unwrap_or(""));
                    button type="submit" { "Pledge" }
                }
            }
            @if operator && !funding.pledges.is_empty() {
                table.figures #pledges {
                    caption { "Pledges (shown to the operator only)" }
                    thead { tr { th scope="col" { "Tenant" } th.num scope="col" { "Amount" } th scope="col" { "When" } } }
                    tbody {
                        @for p in &funding.pledges {
                            tr { td { (p.tenant) } td.num { (money(locale, p.amount, currency)) } td { (locale.date_time(p.at)) } }
                        }
                    }
                }
            }
        }
    }
}

/// A request's page, with what was just done or why a form was refused.
async fn request_page(
    state: &ConsoleState,
    viewer: &Viewer,
    id: i64,
    done: &str,
    refused: Option<&Refused<'_>>,
) -> Result<Markup, PageError> {
    let actor = &viewer.actor;
    let detail = state.platform.request(actor, id).await?;
    let currency = currency(state, viewer).await?;
    let deliverable = deliverable(state, viewer, &detail).await?;
    let locale = viewer.locale;
    let role = actor.role();
    let operator = role == Role::Operator;
    let tenant = role == Role::Tenant;
    let back = format!("/wishlist/{id}");
    let next: Vec<RequestStatus> = RequestStatus::ALL
        .into_iter()
        .filter(|s| detail.status.may_become(*s))
        .collect();
    let funding_live = detail
        .funding
        .as_ref()
        .is_some_and(|f| f.status == "open" || f.status == "funded");
    let keep = |form: &str, field: &str| kept(refused, form, field).unwrap_or("").to_owned();
    // A refused pledge also says, in money, what is left to pledge.
    let refusal = refused.map(|r| match (&detail.funding, r.form) {
        (Some(f), "pledge") if f.status == "open" => format!(
            "{} ({} of {} is left to pledge.)",
            r.message,
            locale.money(f.goal.saturating_sub(f.pledged).max(0), &currency),
            locale.money(f.goal, &currency)
        ),
        _ => r.message.clone(),
    });
    let body = html! {
        @if let Some(message) = &refusal { (error_card(message)) }
        @if let Some(text) = done_text(done) { (notice(text)) }
        p.meta #summary {
            (badge(detail.status)) " · " span #votes data-votes=(detail.votes) { (votes(detail.votes)) }
            " · posted " (locale.date(detail.created_at))
            @if detail.posted_by_you { span.marker { "yours" } }
            @if let Some(by) = &detail.posted_by { " by " (by) }
            " · " a href="/wishlist" { "all requests" }
        }
        div.columns {
            section aria-labelledby="problem-h" {
                h2 #problem-h { "The problem" }
                p.text #problem { (detail.problem) }
                @if !detail.details.is_empty() {
                    h2 { "Details" }
                    p.text #details { (detail.details) }
                }
            }
            section aria-labelledby="state-h" {
                h2 #state-h { "Where it stands" }
                dl #state {
                    dt { "Status" } dd.status { (badge(detail.status)) }
                    @if let Some(reason) = &detail.reason {
                        dt { @if detail.status == RequestStatus::Declined { "Why it was declined" } @else { "Reason" } }
                        dd.reason #reason { (reason) }
                    }
                    @if let Some(original) = detail.duplicate_of {
                        dt { "Duplicate of" }
                        dd #duplicate-of { a href=(format!("/wishlist/{original}")) { "#" (original) } " (its votes and subscribers moved there)" }
                    }
                    @if let Some(builder) = &detail.builder { dt { "Builder" } dd #builder-ns { (builder) } }
                    @if let Some(d) = &detail.delivery {
                        dt { "Delivered by" }
                        dd #delivery { a href=(format!("/store/{}", d.package)) { (d.package) } " " (d.version) " on " (locale.date(d.at)) }
                    }
                    dt { "Last change" } dd { (locale.date_time(detail.updated_at)) }
                    @if let Some(voters) = &detail.voters {
                        dt { "Voters (operator only)" } dd { @if voters.is_empty() { "none" } @else { (voters.join(", ")) } }
                    }
                }
                div.card #vote {
                    p { strong { (votes(detail.votes)) } @if detail.voted { " — yours among them" } }
                    @if tenant {
                        @if detail.status.takes_votes() { (vote_form(viewer, id, detail.voted, &back)) }
                        @else { p.meta { "A " (detail.status) " request takes no votes." } }
                    }
                    form.inline method="post" action=(format!("/wishlist/{id}/subscription")) {
                        (csrf(viewer))
                        input type="hidden" name="on" value=(if detail.subscribed { "0" } else { "1" });
                        @if detail.subscribed {
                            span { "You are told of its changes. " }
                            button.secondary #subscribe type="submit" { "Unsubscribe" }
                        } @else {
                            button.secondary #subscribe type="submit" { "Subscribe to its changes" }
                        }
                    }
                }
            }
        }
        @if let Some(funding) = &detail.funding {
            (funding_section(viewer, id, funding, &currency, detail.delivery.as_ref().map(|d| d.package.as_str()), refused))
        }
        section aria-labelledby="comments-h" {
            h2 #comments-h { "Comments" }
            @if detail.comments.is_empty() { (empty("No comments yet.")) }
            ol.comments #comments {
                @for c in &detail.comments {
                    li id=(format!("comment-{}", c.id)) {
                        p.meta {
                            (locale.date_time(c.at))
                            @if c.by_you { span.marker { "you" } }
                            @if c.by_operator { span.marker { "operator" } }
                            @if let Some(author) = &c.author { " · " (author) }
                        }
                        p.text { (c.body) }
                    }
                }
            }
            form.stack method="post" action=(format!("/wishlist/{id}/comments")) {
                (csrf(viewer))
                label for="comment" { "Your comment (everyone reads it; your name is not shown to other tenants)" }
                textarea #comment name="body" rows="3" required maxlength=(MAX_BODY_CHARS) { (keep("comment", "body")) }
                button type="submit" { "Comment" }
            }
        }
        section aria-labelledby="history-h" {
            h2 #history-h { "History" }
            table.figures #history {
                thead { tr { th scope="col" { "When" } th scope="col" { "Change" } th scope="col" { "Note" } th scope="col" { "By" } } }
                tbody {
                    @for h in &detail.history {
                        tr {
                            td { (locale.date_time(h.at)) }
                            td { @match h.from { Some(from) => { (from) " → " (h.to) } None => { "posted (" (h.to) ")" } } }
                            // A plain change's note repeats it.
                            td { (h.note) }
                            td {
                                @if h.by_operator { span.marker { "operator" } }
                                @if let Some(by) = &h.by { " " (by) }
                            }
                        }
                    }
                }
            }
        }
        @if operator {
            section.card #assess aria-labelledby="assess-h" {
                h2 #assess-h { "Assess (operator)" }
                @if next.is_empty() {
                    p { "A " (detail.status) " request is final: it takes no further assessment." }
                } @else {
                    form.stack method="post" action=(format!("/wishlist/{id}/status")) {
                        (csrf(viewer))
                        label for="assess-status" { "New status" }
                        select #assess-status name="status" {
                            @for s in &next {
                                option value=(s.as_str()) selected[keep("assess", "status") == s.as_str()] { (s.as_str()) }
                            }
                        }
                        label for="reason" { "Reason (shown to everyone; required to decline)" }
                        textarea #reason name="reason" rows="3" maxlength=(MAX_BODY_CHARS) { (keep("assess", "reason")) }
                        label for="duplicate_of" { "Duplicate of request # (with the status duplicate)" }
                        input #duplicate_of name="duplicate_of" inputmode="numeric" size="6" value=(keep("assess", "duplicate_of"));
                        label for="assess-builder" { "Builder (an author's namespace, optional)" }
                        input #assess-builder name="builder" value=(kept(refused, "assess", "builder").map(str::to_owned).or_else(|| detail.builder.clone()).unwrap_or_default());
                        button type="submit" { "Save the assessment" }
                    }
                }
            }
            @if detail.status == RequestStatus::Accepted && !funding_live {
                section.card #open-funding aria-labelledby="open-funding-h" {
                    h2 #open-funding-h { "Open funding to go first (operator)" }
                    p { "Tenants pledge toward the goal until the deadline. The pledge that reaches it funds the request: the pledges are invoiced at the close and the request is planned. Short of the goal at the deadline, nothing is invoiced." }
                    form.stack method="post" action=(format!("/wishlist/{id}/funding")) {
                        (csrf(viewer))
                        label for="goal" { "Goal (" (currency.code()) ")" }
                        input #goal name="goal" inputmode="decimal" required value=(keep("funding", "goal"));
                        label for="return_pct" { "Return for funders (%)" }
                        input #return_pct name="return_pct" inputmode="decimal" value=(kept(refused, "funding", "return_pct").unwrap_or("10"));
                        label for="deadline" { "Deadline (the end of that day, UTC)" }
                        input #deadline name="deadline" type="date" required value=(keep("funding", "deadline"));
                        label for="funding-builder" { "Builder (the author's namespace that builds it)" }
                        input #funding-builder name="builder" required value=(kept(refused, "funding", "builder").map(str::to_owned).or_else(|| detail.builder.clone()).unwrap_or_default());
                        button type="submit" { "Open funding" }
                    }
                }
            }
        }
        @if let Some(packages) = &deliverable {
            section.card #deliver aria-labelledby="deliver-h" {
                h2 #deliver-h { "Deliver" }
                p { "Name the published plugin version that delivers the request"
                    @if let Some(builder) = &detail.builder { " (a plugin of " (builder) ")" }
                    ". Its subscribers and funders are told; a funded request's pledges become investments in the plugin." }
                form.stack method="post" action=(format!("/wishlist/{id}/delivery")) {
                    (csrf(viewer))
                    label for="package" { "Plugin (namespace/name)" }
                    input #package name="package" required list="builder-packages" value=(kept(refused, "deliver", "package").or(packages.first().map(String::as_str).filter(|_| packages.len() == 1)).unwrap_or(""));
                    datalist #builder-packages { @for p in packages { option value=(p) {} } }
                    label for="version" { "Version" }
                    input #version name="version" required value=(keep("deliver", "version"));
                    button type="submit" { "Deliver" }
                }
            }
        }
    };
    Ok(page_with(
        viewer,
        &format!("#{id} {}", detail.title),
        "/wishlist",
        &[],
        body,
    ))
}

/// `/wishlist/{id}`: one request.
pub async fn request(
    State(state): State<ConsoleState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<WishlistQuery>,
) -> Result<Markup, PageError> {
    request_page(&state, &viewer, request_id(&id)?, &query.done, None).await
}

/// After a request's form: back to its page saying what was done, or the
/// page again with the refusal and the form as typed.
async fn answer(
    state: &ConsoleState,
    posted: &Posted,
    id: i64,
    form: &'static str,
    result: Result<&'static str, PageError>,
) -> Result<Response, PageError> {
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/wishlist/{id}?done={done}")).into_response()),
        Err(error) if correctable(&error) => {
            let refused = Refused {
                form,
                message: error.to_string(),
                fields: &posted.form,
            };
            let page = request_page(state, &posted.viewer, id, "", Some(&refused)).await?;
            Ok((error.status(), page).into_response())
        }
        Err(error) => Err(error),
    }
}

/// Whether a form's `on` field turns something on.
fn on(form: &Fields) -> bool {
    form.get("on") != Some("0")
}

/// POST `/wishlist/{id}/vote` (`on=1`, `on=0` to withdraw): back to the
/// list it came from, or to the request.
pub async fn vote(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let id = request_id(&id)?;
    let on = on(&posted.form);
    let result = state.platform.vote(&posted.viewer.actor, id, on).await;
    if result.is_ok()
        && let Some(back) = posted.form.get("back").filter(|b| is_list_address(b))
    {
        return Ok(Redirect::to(back).into_response());
    }
    let done = if on { "voted" } else { "unvoted" };
    answer(
        &state,
        &posted,
        id,
        "vote",
        result.map(|_| done).map_err(Into::into),
    )
    .await
}

/// POST `/wishlist/{id}/subscription` (`on=1`, `on=0`).
pub async fn subscribe(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let id = request_id(&id)?;
    let on = on(&posted.form);
    let result = state
        .platform
        .subscribe(&posted.viewer.actor, id, on)
        .await
        .map(|_| if on { "subscribed" } else { "unsubscribed" })
        .map_err(Into::into);
    answer(&state, &posted, id, "subscribe", result).await
}

/// POST `/wishlist/{id}/comments`.
pub async fn comment(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let id = request_id(&id)?;
    let body = posted.form.get("body").unwrap_or("");
    let result = state
        .platform
        .comment(&posted.viewer.actor, id, body)
        .await
        .map(|_| "commented")
        .map_err(Into::into);
    answer(&state, &posted, id, "comment", result).await
}

/// POST `/wishlist/{id}/pledge`: a tenant's pledge (major units) toward
/// the request's open funding.
pub async fn pledge(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let id = request_id(&id)?;
    let result = async {
        let actor = &posted.viewer.actor;
        let currency = currency(&state, &posted.viewer).await?;
        let amount = parse_amount(posted.form.get("amount").unwrap_or(""), currency.exponent())?;
        let funding = state
            .platform
            .request(actor, id)
            .await?
            .funding
            .filter(|f| f.status == "open")
            .ok_or_else(|| {
                PageError::BadRequest(format!("request #{id} has no funding open to pledge to"))
            })?;
        state.platform.pledge(actor, &funding.id, amount).await?;
        Ok("pledged")
    }
    .await;
    answer(&state, &posted, id, "pledge", result).await
}

/// POST `/wishlist/{id}/status`: the operator's assessment.
pub async fn assess(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let id = request_id(&id)?;
    let f = &posted.form;
    let result = async {
        let status = status_named(f.get("status").unwrap_or(""))?
            .ok_or_else(|| PageError::BadRequest("choose the new status".into()))?;
        let duplicate_of = f
            .non_empty("duplicate_of")
            .map(|n| {
                n.trim_start_matches('#')
                    .parse::<i64>()
                    .map_err(|_| PageError::BadRequest(format!("`{n}` is not a request's number")))
            })
            .transpose()?;
        let assessment = Assessment {
            status,
            reason: f.non_empty("reason").map(str::to_owned),
            duplicate_of,
            builder: f.non_empty("builder").map(str::to_owned),
        };
        state
            .platform
            .assess(&posted.viewer.actor, id, &assessment)
            .await?;
        Ok("assessed")
    }
    .await;
    answer(&state, &posted, id, "assess", result).await
}

/// POST `/wishlist/{id}/funding`: the operator opens funding to go first.
pub async fn open_funding(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let id = request_id(&id)?;
    let f = &posted.form;
    let result = async {
        let currency = currency(&state, &posted.viewer).await?;
        let return_bps = match f.non_empty("return_pct") {
            Some(pct) => u32::try_from(parse_amount(pct, 2)?)
                .map_err(|_| PageError::BadRequest("the return is too large".into()))?,
            None => 0,
        };
        let funding = NewFunding {
            goal_minor: parse_amount(f.get("goal").unwrap_or(""), currency.exponent())?,
            return_bps,
            deadline_ms: parse_day_end(f.get("deadline").unwrap_or(""))?,
            builder: f.get("builder").unwrap_or("").to_owned(),
        };
        state
            .platform
            .open_request_funding(&posted.viewer.actor, id, &funding)
            .await?;
        Ok("funding")
    }
    .await;
    answer(&state, &posted, id, "funding", result).await
}

/// POST `/wishlist/{id}/delivery`: the operator or an owner of the
/// builder's namespace names the plugin version that delivers it.
pub async fn deliver(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Result<Response, PageError> {
    let id = request_id(&id)?;
    let delivery = NewDelivery {
        package: posted.form.get("package").unwrap_or("").to_owned(),
        version: posted.form.get("version").unwrap_or("").to_owned(),
    };
    let result = state
        .platform
        .deliver_request(&posted.viewer.actor, id, &delivery)
        .await
        .map(|_| "delivered")
        .map_err(Into::into);
    answer(&state, &posted, id, "deliver", result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_wishlist_addresses_of_plain_characters_are_returned_to() {
        assert!(is_list_address("/wishlist"));
        assert!(is_list_address("/wishlist?q=csv&status=open&sort=newest"));
        assert!(!is_list_address("//evil.example/wishlist"));
        assert!(!is_list_address("/wishlistx"));
        assert!(!is_list_address("https://evil.example/"));
        assert!(!is_list_address("/wishlist?q=a\r\nSet-Cookie:x"));
        assert_eq!(back_to_list(Some("q=csv")), "/wishlist?q=csv");
        assert_eq!(back_to_list(None), "/wishlist");
    }

    #[test]
    fn statuses_and_numbers_are_read_from_forms() {
        assert_eq!(status_named("").unwrap(), None);
        assert_eq!(
            status_named("under-review").unwrap(),
            Some(RequestStatus::UnderReview)
        );
        assert!(status_named("shipped").is_err());
        assert_eq!(request_id("#12").unwrap(), 12);
        assert!(request_id("0").is_err());
        assert!(request_id("x").is_err());
    }

    #[test]
    fn only_known_actions_say_what_was_done() {
        assert!(done_text("pledged").is_some());
        assert!(done_text("<script>").is_none());
    }

    #[test]
    fn a_refused_forms_fields_are_kept_for_that_form_only() {
        let fields = Fields(vec![("amount".into(), "12.5".into())]);
        let refused = Refused {
            form: "pledge",
            message: "no".into(),
            fields: &fields,
        };
        assert_eq!(kept(Some(&refused), "pledge", "amount"), Some("12.5"));
        assert_eq!(kept(Some(&refused), "funding", "amount"), None);
        assert_eq!(kept(None, "pledge", "amount"), None);
    }
}
