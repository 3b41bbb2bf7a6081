//! `spleis request …`: the wishlist as a client of a server. Tenants post,
//! vote and comment; the operator assesses, opens funding and delivers
//! (with the builder). Amounts are typed in major units.

use crate::billing::amounts::Amounts;
use crate::client::{Client, Connection, list};
use anyhow::Context;
use clap::Subcommand;
use spleis_server::types::billing::CampaignRecord;
use spleis_server::types::wishlist::{
    Assessment, NewComment, NewDelivery, NewFunding, NewRequest, RequestDetail, RequestStatus,
    RequestSummary, Requests,
};
use std::process::ExitCode;

/// Wishlist commands.
#[derive(Subcommand)]
pub enum RequestCommand {
    /// Post a request (tenants): what you miss and the problem it solves.
    /// Similar requests are shown: vote for one of them instead when it is
    /// the same wish.
    Post {
        /// What is wanted, in a line.
        #[arg(long)]
        title: String,
        /// The problem it solves, for whom.
        #[arg(long)]
        problem: String,
        /// Anything else.
        #[arg(long, default_value = "")]
        details: String,
    },
    /// Requests: search by words, filter by status, sort by votes or newest.
    List {
        /// Words that must all occur.
        #[arg(long, default_value = "")]
        q: String,
        /// Only this status (open, under-review, accepted, declined,
        /// duplicate, planned, in-progress, delivered).
        #[arg(long)]
        status: Option<String>,
        /// `votes` or `newest`.
        #[arg(long, default_value = "votes")]
        sort: String,
        /// At most this many (1 to 500).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
    },
    /// Requests like this text (before posting).
    Similar {
        /// The title you would post.
        text: String,
    },
    /// One request: status, votes, comments, history, funding, delivery.
    Show {
        /// The request's number.
        id: i64,
    },
    /// Vote for a request (tenants; one vote each).
    Vote {
        /// The request's number.
        id: i64,
    },
    /// Withdraw your vote.
    Unvote {
        /// The request's number.
        id: i64,
    },
    /// Comment on a request.
    Comment {
        /// The request's number.
        id: i64,
        /// The comment.
        body: String,
    },
    /// Assess a request (operator): a new status, with a reason, the
    /// original of a duplicate, or the builder's namespace.
    Assess {
        /// The request's number.
        id: i64,
        /// under-review, accepted, declined, duplicate, planned, in-progress.
        status: String,
        /// Why (required to decline; shown to everyone).
        #[arg(long)]
        reason: Option<String>,
        /// The original, for a duplicate.
        #[arg(long)]
        duplicate_of: Option<i64>,
        /// The namespace that will build it.
        #[arg(long)]
        builder: Option<String>,
    },
    /// Open funding to go first on an accepted request (operator).
    Fund {
        /// The request's number.
        id: i64,
        /// The goal, major units (10000.00).
        #[arg(long)]
        goal: String,
        /// The funders' return, basis points (1000 = 10%).
        #[arg(long, default_value_t = 1000)]
        return_bps: u32,
        /// Days pledging stays open.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// The namespace that will build it.
        #[arg(long)]
        builder: String,
    },
    /// Deliver a request with a published plugin version (operator, or an
    /// owner of the builder's namespace).
    Deliver {
        /// The request's number.
        id: i64,
        /// The plugin, `namespace/name`.
        #[arg(long)]
        package: String,
        /// Its version.
        #[arg(long)]
        version: String,
    },
}

fn status(name: &str) -> anyhow::Result<RequestStatus> {
    RequestStatus::parse(name).with_context(|| {
        let all: Vec<&str> = RequestStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!("unknown status `{name}`: one of {}", all.join(", "))
    })
}

fn summary(r: &RequestSummary) -> String {
    let mine = match (r.posted_by_you, r.voted) {
        (true, _) => " (yours)",
        (false, true) => " (voted)",
        _ => "",
    };
    format!(
        "#{} [{}] {} — {} votes, {} comments{mine}",
        r.id, r.status, r.title, r.votes, r.comments
    )
}

fn detail(r: &RequestDetail, money: &Amounts) -> String {
    let mut lines = vec![
        format!("#{} {}", r.id, r.title),
        format!("status: {}   votes: {}", r.status, r.votes),
        format!("problem: {}", r.problem),
    ];
    if !r.details.is_empty() {
        lines.push(format!("details: {}", r.details));
    }
    if let Some(reason) = &r.reason {
        lines.push(format!("reason: {reason}"));
    }
    if let Some(original) = r.duplicate_of {
        lines.push(format!("duplicate of #{original}"));
    }
    if let Some(builder) = &r.builder {
        lines.push(format!("builder: {builder}"));
    }
    if let Some(f) = &r.funding {
        lines.push(format!(
            "funding {}: {} of {} pledged by {} tenants, {}",
            f.id,
            money.show(f.pledged),
            money.show(f.goal),
            f.pledge_count,
            f.status
        ));
    }
    if let Some(d) = &r.delivery {
        lines.push(format!("delivered by {} {}", d.package, d.version));
    }
    for h in &r.history {
        let from = h.from.map_or(String::new(), |f| format!("{f} → "));
        lines.push(format!("  history: {from}{}: {}", h.to, h.note));
    }
    for c in &r.comments {
        let who = if c.by_you {
            "you"
        } else if c.by_operator {
            "operator"
        } else {
            "a tenant"
        };
        lines.push(format!("  comment by {who}: {}", c.body));
    }
    lines.join("\n")
}

/// Runs a wishlist command.
pub fn request(command: RequestCommand, connection: Connection) -> anyhow::Result<ExitCode> {
    let client = Client::new(&connection)?;
    let money = Amounts::of(&client)?;
    let show = |r: &RequestDetail| detail(r, &money);
    let path = |id: i64, rest: &str| format!("/v1/requests/{id}{rest}");
    let answer = match command {
        RequestCommand::Post {
            title,
            problem,
            details,
        } => {
            let similar = client
                .get::<Requests>(&format!("/v1/requests/similar?q={}", encode(&title)))?
                .body;
            let body = NewRequest {
                title,
                problem,
                details,
            };
            let posted = client.post::<RequestDetail>("/v1/requests", &body)?;
            let others: Vec<&RequestSummary> = similar.requests.iter().collect();
            if !others.is_empty() {
                eprintln!("similar requests (vote for one instead if it is the same wish):");
                for other in others {
                    eprintln!("  {}", summary(other));
                }
            }
            posted
        }
        RequestCommand::List {
            q,
            status: s,
            sort,
            limit,
        } => {
            if !matches!(sort.as_str(), "votes" | "newest") {
                anyhow::bail!("unknown sort `{sort}`: votes or newest");
            }
            let mut query = format!("/v1/requests?q={}&sort={sort}&limit={limit}", encode(&q));
            if let Some(s) = s {
                query.push_str(&format!("&status={}", status(&s)?));
            }
            let answer = client.get::<Requests>(&query)?;
            return answer
                .print(&client, |a| list(&a.requests, "no requests", summary))
                .map(|()| ExitCode::SUCCESS);
        }
        RequestCommand::Similar { text } => {
            let answer =
                client.get::<Requests>(&format!("/v1/requests/similar?q={}", encode(&text)))?;
            return answer
                .print(&client, |a| {
                    list(&a.requests, "no similar requests", summary)
                })
                .map(|()| ExitCode::SUCCESS);
        }
        RequestCommand::Show { id } => client.get::<RequestDetail>(&path(id, ""))?,
        RequestCommand::Vote { id } => {
            client.request::<RequestDetail>("PUT", &path(id, "/vote"), None::<&()>)?
        }
        RequestCommand::Unvote { id } => {
            client.request::<RequestDetail>("DELETE", &path(id, "/vote"), None::<&()>)?
        }
        RequestCommand::Comment { id, body } => {
            client.post::<RequestDetail>(&path(id, "/comments"), &NewComment { body })?
        }
        RequestCommand::Assess {
            id,
            status: s,
            reason,
            duplicate_of,
            builder,
        } => {
            let body = Assessment {
                status: status(&s)?,
                reason,
                duplicate_of,
                builder,
            };
            client.post::<RequestDetail>(&path(id, "/status"), &body)?
        }
        RequestCommand::Fund {
            id,
            goal,
            return_bps,
            days,
            builder,
        } => {
            let body = NewFunding {
                goal_minor: money.minor(&goal)?,
                return_bps,
                deadline_ms: crate::billing::deadline(u64::from(days) * 86_400)?,
                builder,
            };
            let answer = client.post::<CampaignRecord>(&path(id, "/funding"), &body)?;
            return answer
                .print(&client, |c| {
                    format!(
                        "funding {} opened for {}: goal {}, pledge with `spleis billing campaign pledge {} --amount …`",
                        c.id,
                        c.funds(),
                        money.show(c.goal),
                        c.id
                    )
                })
                .map(|()| ExitCode::SUCCESS);
        }
        RequestCommand::Deliver {
            id,
            package,
            version,
        } => client
            .post::<RequestDetail>(&path(id, "/delivery"), &NewDelivery { package, version })?,
    };
    answer.print(&client, show)?;
    Ok(ExitCode::SUCCESS)
}

/// `text` for a query string: unreserved characters kept, the rest
/// percent-encoded.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_text_is_percent_encoded() {
        assert_eq!(
            super::encode("heat pump & co/ø"),
            "heat%20pump%20%26%20co%2F%C3%B8"
        );
    }
}
