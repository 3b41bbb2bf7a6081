//! The wishlist's rows: requests, votes, subscriptions, comments and
//! history, and the full-text search each backend does its own way
//! (SQLite's FTS5 table, PostgreSQL's `tsvector` column). What a viewer
//! may see of them is the platform's to decide: these read everything and
//! mark what is the viewer's own.

use crate::{Backend, Db, Store, StoreError};
use spleis_domain::wishlist::{
    Comment, Delivery, HistoryEntry, MAX_COMMENTS, RequestDetail, RequestQuery, RequestSort,
    RequestStatus, RequestSummary, WishlistError,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

type Result<T> = std::result::Result<T, WishlistError>;

/// How the words of a search combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// Every word (a search).
    All,
    /// Any word, the last one as a prefix (similar requests while typing).
    Any,
}

/// A request's row as stored, for the platform's rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRow {
    /// Its number.
    pub id: i64,
    /// What is wanted.
    pub title: String,
    /// Where it stands.
    pub status: RequestStatus,
    /// Who posted it.
    pub posted_by: String,
    /// The namespace that builds it.
    pub builder: Option<String>,
    /// The original, for a duplicate.
    pub duplicate_of: Option<i64>,
}

fn status_of(row: &AnyRow, column: &str) -> Result<RequestStatus> {
    let name: String = row.try_get(column).db()?;
    RequestStatus::parse(&name).ok_or_else(|| {
        StoreError::corrupt(format!("feature_requests: unknown status `{name}`")).into()
    })
}

fn count(row: &AnyRow, column: &str) -> Result<u32> {
    let n: i64 = row.try_get(column).db()?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

impl Store {
    /// The full-text condition on `r.id` for `words` (plain words, checked
    /// by [`spleis_domain::wishlist::search_words`]), and the query text to
    /// bind for it.
    fn text_match(&self, words: &[String], how: Match, param: usize) -> (String, String) {
        let last = words.len().saturating_sub(1);
        match self.backend() {
            Backend::Sqlite => {
                let terms: Vec<String> = words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| match how {
                        Match::Any if i == last => format!("\"{w}\"*"),
                        _ => format!("\"{w}\""),
                    })
                    .collect();
                let joiner = if how == Match::All { " AND " } else { " OR " };
                (
                    format!(
                        "r.id IN (SELECT rowid FROM feature_requests_fts WHERE feature_requests_fts MATCH ${param})"
                    ),
                    terms.join(joiner),
                )
            }
            Backend::Postgres => {
                let terms: Vec<String> = words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| match how {
                        Match::Any if i == last => format!("{w}:*"),
                        _ => w.clone(),
                    })
                    .collect();
                let joiner = if how == Match::All { " & " } else { " | " };
                (
                    format!("r.search @@ to_tsquery('english', ${param})"),
                    terms.join(joiner),
                )
            }
        }
    }

    /// Posts a request: its row, its first history entry, its poster
    /// subscribed and, for a tenant, voting for it. Answers its number.
    pub async fn post_request(
        &self,
        title: &str,
        problem: &str,
        details: &str,
        by: &str,
        vote: bool,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await.db()?;
        let id: i64 = sqlx::query(
            "INSERT INTO feature_requests (title, problem, details, status, posted_by, created_at, updated_at) \
             VALUES ($1, $2, $3, 'open', $4, $5, $5) RETURNING id",
        )
        .bind(title)
        .bind(problem)
        .bind(details)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .db()?
        .try_get("id")
        .db()?;
        add_history(&mut tx, id, now, by, None, RequestStatus::Open, "posted").await?;
        subscribe(&mut tx, id, by).await?;
        if vote {
            add_vote(&mut tx, id, by, now).await?;
        }
        tx.commit().await.db()?;
        Ok(id)
    }

    /// The request's row.
    pub async fn request_row(&self, id: i64) -> Result<RequestRow> {
        let mut conn = self.pool().acquire().await.db()?;
        request_row(&mut conn, id, "").await
    }

    /// Requests matching `query`, as `viewer` sees them in a list.
    pub async fn requests(
        &self,
        query: &RequestQuery,
        viewer: &str,
    ) -> Result<Vec<RequestSummary>> {
        self.summaries(
            &query.words,
            Match::All,
            query.status,
            query.sort,
            query.limit,
            viewer,
        )
        .await
    }

    /// Requests sharing words with `words`, best match first; merged
    /// duplicates are left out (their originals are offered).
    pub async fn similar_requests(
        &self,
        words: &[String],
        limit: u32,
        viewer: &str,
    ) -> Result<Vec<RequestSummary>> {
        if words.is_empty() {
            return Ok(Vec::new());
        }
        self.summaries(words, Match::Any, None, RequestSort::Votes, limit, viewer)
            .await
    }

    async fn summaries(
        &self,
        words: &[String],
        how: Match,
        status: Option<RequestStatus>,
        sort: RequestSort,
        limit: u32,
        viewer: &str,
    ) -> Result<Vec<RequestSummary>> {
        let mut conditions = Vec::new();
        let mut binds: Vec<String> = vec![viewer.to_owned()];
        if !words.is_empty() {
            let (condition, text) = self.text_match(words, how, binds.len() + 1);
            conditions.push(condition);
            binds.push(text);
        }
        if let Some(status) = status {
            conditions.push(format!("r.status = ${}", binds.len() + 1));
            binds.push(status.as_str().to_owned());
        } else if how == Match::Any {
            conditions.push("r.status <> 'duplicate'".to_owned());
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let order = match (how, sort, self.backend()) {
            (Match::Any, _, Backend::Sqlite) => {
                // FTS5's rank of the row for the same query.
                "(SELECT bm25(feature_requests_fts) FROM feature_requests_fts \
                 WHERE feature_requests_fts MATCH $2 AND rowid = r.id), votes DESC, r.id DESC"
            }
            (Match::Any, _, Backend::Postgres) => {
                "ts_rank(r.search, to_tsquery('english', $2)) DESC, votes DESC, r.id DESC"
            }
            (Match::All, RequestSort::Votes, _) => "votes DESC, r.id DESC",
            (Match::All, RequestSort::Newest, _) => "r.id DESC",
        };
        let sql = format!(
            "SELECT r.id, r.title, r.status, r.created_at, r.posted_by, \
             (SELECT COUNT(*) FROM request_votes v WHERE v.request = r.id) AS votes, \
             (SELECT COUNT(*) FROM request_comments c WHERE c.request = r.id) AS comments, \
             (SELECT COUNT(*) FROM request_votes v WHERE v.request = r.id AND v.tenant = $1) AS voted \
             FROM feature_requests r {filter} ORDER BY {order} LIMIT {limit}"
        );
        let mut query = sqlx::query(&sql);
        for bind in &binds {
            query = query.bind(bind);
        }
        query
            .fetch_all(self.pool())
            .await
            .db()?
            .iter()
            .map(|row| {
                let posted_by: String = row.try_get("posted_by").db()?;
                Ok(RequestSummary {
                    id: row.try_get("id").db()?,
                    title: row.try_get("title").db()?,
                    status: status_of(row, "status")?,
                    votes: count(row, "votes")?,
                    comments: count(row, "comments")?,
                    created_at: row.try_get("created_at").db()?,
                    posted_by_you: posted_by == viewer,
                    voted: count(row, "voted")? > 0,
                })
            })
            .collect()
    }

    /// One request with its comments and history; the viewer's own marked,
    /// every name filled in (the platform hides what the viewer may not
    /// see). The funding is the platform's to add.
    pub async fn request_detail(&self, id: i64, viewer: &str) -> Result<RequestDetail> {
        let row = sqlx::query(
            "SELECT r.id, r.title, r.problem, r.details, r.status, r.reason, r.duplicate_of, r.builder, \
             r.delivered_package, r.delivered_version, r.delivered_at, r.created_at, r.updated_at, r.posted_by \
             FROM feature_requests r WHERE r.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .db()?
        .ok_or(WishlistError::NotFound(id))?;
        let voters: Vec<String> =
            sqlx::query("SELECT tenant FROM request_votes WHERE request = $1 ORDER BY at, tenant")
                .bind(id)
                .fetch_all(self.pool())
                .await
                .db()?
                .iter()
                .map(|r| r.try_get("tenant"))
                .collect::<std::result::Result<_, _>>()
                .db()?;
        let subscribed = sqlx::query(
            "SELECT account FROM request_subscriptions WHERE request = $1 AND account = $2",
        )
        .bind(id)
        .bind(viewer)
        .fetch_optional(self.pool())
        .await
        .db()?
        .is_some();
        let operators = self.operator_ids().await?;
        let comments = sqlx::query(
            "SELECT id, author, body, at FROM request_comments WHERE request = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .db()?
        .iter()
        .map(|r| {
            let author: String = r.try_get("author").db()?;
            Ok(Comment {
                id: r.try_get("id").db()?,
                body: r.try_get("body").db()?,
                at: r.try_get("at").db()?,
                by_you: author == viewer,
                by_operator: operators.contains(&author),
                author: Some(author),
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let history = sqlx::query(
            "SELECT at, by_account, from_status, to_status, note FROM request_history \
             WHERE request = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .db()?
        .iter()
        .map(|r| {
            let by: String = r.try_get("by_account").db()?;
            let from: Option<String> = r.try_get("from_status").db()?;
            Ok(HistoryEntry {
                at: r.try_get("at").db()?,
                from: match from {
                    Some(name) => Some(RequestStatus::parse(&name).ok_or_else(|| {
                        StoreError::corrupt(format!("request_history: unknown status `{name}`"))
                    })?),
                    None => None,
                },
                to: status_of(r, "to_status")?,
                note: r.try_get("note").db()?,
                by_operator: operators.contains(&by),
                by: Some(by),
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let posted_by: String = row.try_get("posted_by").db()?;
        let package: Option<String> = row.try_get("delivered_package").db()?;
        let version: Option<String> = row.try_get("delivered_version").db()?;
        let at: Option<i64> = row.try_get("delivered_at").db()?;
        let delivery = match (package, version, at) {
            (Some(package), Some(version), Some(at)) => Some(Delivery {
                package,
                version,
                at,
            }),
            _ => None,
        };
        Ok(RequestDetail {
            id,
            title: row.try_get("title").db()?,
            problem: row.try_get("problem").db()?,
            details: row.try_get("details").db()?,
            status: status_of(&row, "status")?,
            reason: row.try_get("reason").db()?,
            duplicate_of: row.try_get("duplicate_of").db()?,
            builder: row.try_get("builder").db()?,
            delivery,
            votes: u32::try_from(voters.len()).unwrap_or(u32::MAX),
            created_at: row.try_get("created_at").db()?,
            updated_at: row.try_get("updated_at").db()?,
            posted_by_you: posted_by == viewer,
            voted: voters.iter().any(|v| v == viewer),
            subscribed,
            posted_by: Some(posted_by),
            voters: Some(voters),
            funding: None,
            comments,
            history,
        })
    }

    async fn operator_ids(&self) -> Result<Vec<String>> {
        sqlx::query("SELECT id FROM accounts WHERE role = 'operator'")
            .fetch_all(self.pool())
            .await
            .db()?
            .iter()
            .map(|r| r.try_get("id").db().map_err(Into::into))
            .collect()
    }

    /// Sets or withdraws `tenant`'s vote, if the request takes votes; a
    /// second vote is the same vote. Voting subscribes.
    pub async fn set_vote(&self, id: i64, tenant: &str, on: bool, now: i64) -> Result<()> {
        let mut tx = self.begin_write().await.db()?;
        let row = request_row(&mut tx, id, self.for_update()).await?;
        if on {
            if !row.status.takes_votes() {
                return Err(no_votes(&row));
            }
            add_vote(&mut tx, id, tenant, now).await?;
            subscribe(&mut tx, id, tenant).await?;
        } else {
            sqlx::query("DELETE FROM request_votes WHERE request = $1 AND tenant = $2")
                .bind(id)
                .bind(tenant)
                .execute(&mut *tx)
                .await
                .db()?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    /// Subscribes `account` to the request's changes, or unsubscribes it.
    pub async fn set_subscription(&self, id: i64, account: &str, on: bool) -> Result<()> {
        let mut tx = self.begin_write().await.db()?;
        request_row(&mut tx, id, "").await?;
        if on {
            subscribe(&mut tx, id, account).await?;
        } else {
            sqlx::query("DELETE FROM request_subscriptions WHERE request = $1 AND account = $2")
                .bind(id)
                .bind(account)
                .execute(&mut *tx)
                .await
                .db()?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    /// Adds a comment (subscribing its author); answers its number.
    pub async fn add_comment(&self, id: i64, author: &str, body: &str, now: i64) -> Result<i64> {
        let mut tx = self.begin_write().await.db()?;
        request_row(&mut tx, id, self.for_update()).await?;
        let comments: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM request_comments WHERE request = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .db()?
                .try_get("n")
                .db()?;
        if comments >= MAX_COMMENTS {
            return Err(WishlistError::Refused(format!(
                "request #{id} has {comments} comments, the most a request keeps"
            )));
        }
        let comment: i64 = sqlx::query(
            "INSERT INTO request_comments (request, author, body, at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(id)
        .bind(author)
        .bind(body)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .db()?
        .try_get("id")
        .db()?;
        subscribe(&mut tx, id, author).await?;
        tx.commit().await.db()?;
        Ok(comment)
    }

    /// Every account subscribed to the request.
    pub async fn subscribers(&self, id: i64) -> Result<Vec<String>> {
        sqlx::query("SELECT account FROM request_subscriptions WHERE request = $1 ORDER BY account")
            .bind(id)
            .fetch_all(self.pool())
            .await
            .db()?
            .iter()
            .map(|r| r.try_get("account").db().map_err(Into::into))
            .collect()
    }
}

/// The refusal of a vote on `row`, pointing at the original of a duplicate.
fn no_votes(row: &RequestRow) -> WishlistError {
    let hint = row
        .duplicate_of
        .map_or(String::new(), |o| format!("; vote for #{o}, its original"));
    WishlistError::NoVotes {
        id: row.id,
        status: row.status,
        hint,
    }
}

/// Whether `namespace` exists (a builder is one).
pub(crate) async fn namespace_exists(conn: &mut AnyConnection, namespace: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT name FROM namespaces WHERE name = $1")
        .bind(namespace)
        .fetch_optional(&mut *conn)
        .await
        .db()?
        .is_some())
}

/// The request's row, locked for update with `lock`.
pub(crate) async fn request_row(
    conn: &mut AnyConnection,
    id: i64,
    lock: &str,
) -> Result<RequestRow> {
    let row = sqlx::query(&format!(
        "SELECT id, title, status, posted_by, builder, duplicate_of FROM feature_requests WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .db()?
    .ok_or(WishlistError::NotFound(id))?;
    Ok(RequestRow {
        id,
        title: row.try_get("title").db()?,
        status: status_of(&row, "status")?,
        posted_by: row.try_get("posted_by").db()?,
        builder: row.try_get("builder").db()?,
        duplicate_of: row.try_get("duplicate_of").db()?,
    })
}

pub(crate) async fn add_vote(
    conn: &mut AnyConnection,
    id: i64,
    tenant: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO request_votes (request, tenant, at) VALUES ($1, $2, $3) \
         ON CONFLICT (request, tenant) DO NOTHING",
    )
    .bind(id)
    .bind(tenant)
    .bind(now)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn subscribe(conn: &mut AnyConnection, id: i64, account: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO request_subscriptions (request, account) VALUES ($1, $2) \
         ON CONFLICT (request, account) DO NOTHING",
    )
    .bind(id)
    .bind(account)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

/// Appends to the request's history.
pub(crate) async fn add_history(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
    by: &str,
    from: Option<RequestStatus>,
    to: RequestStatus,
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO request_history (request, seq, at, by_account, from_status, to_status, note) \
         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM request_history WHERE request = $1), $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(now)
    .bind(by)
    .bind(from.map(RequestStatus::as_str))
    .bind(to.as_str())
    .bind(note)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

/// A status change the platform decided: the row, and its history entry.
pub(crate) async fn change_status(
    conn: &mut AnyConnection,
    row: &RequestRow,
    to: RequestStatus,
    by: &str,
    note: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE feature_requests SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(to.as_str())
        .bind(now)
        .bind(row.id)
        .execute(&mut *conn)
        .await
        .db()?;
    add_history(conn, row.id, now, by, Some(row.status), to, note).await
}

/// The assessment's writes, decided by the platform.
#[derive(Clone, Debug, Default)]
pub struct AssessmentWrite<'a> {
    /// The reason shown with the status.
    pub reason: Option<&'a str>,
    /// The original this request duplicates: its votes and subscribers
    /// move there.
    pub duplicate_of: Option<i64>,
    /// The namespace that builds it.
    pub builder: Option<&'a str>,
}

impl Store {
    /// Runs `decide` on the request's row (locked) and, when it agrees,
    /// writes the assessment: the status, its history entry, the reason,
    /// the builder, and for a duplicate the move of votes and subscribers
    /// to the original (each tenant once).
    pub async fn assess_request<F>(
        &self,
        id: i64,
        to: RequestStatus,
        write: AssessmentWrite<'_>,
        by: &str,
        now: i64,
        decide: F,
    ) -> Result<RequestRow>
    where
        F: FnOnce(&RequestRow, Option<&RequestRow>, Option<&str>) -> Result<String>,
    {
        let mut tx = self.begin_write().await.db()?;
        let row = request_row(&mut tx, id, self.for_update()).await?;
        let original = match write.duplicate_of {
            Some(original) if original != id => {
                Some(request_row(&mut tx, original, self.for_update()).await?)
            }
            _ => None,
        };
        let funding: Option<String> =
            sqlx::query("SELECT status FROM campaigns WHERE request = $1 AND status <> 'lapsed'")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .map(|r| r.try_get("status"))
                .transpose()
                .db()?;
        let note = decide(&row, original.as_ref(), funding.as_deref())?;
        if let Some(builder) = write.builder
            && !namespace_exists(&mut tx, builder).await?
        {
            return Err(WishlistError::NoNamespace(builder.to_owned()));
        }
        sqlx::query(
            "UPDATE feature_requests SET reason = $1, builder = COALESCE($2, builder), \
             duplicate_of = $3 WHERE id = $4",
        )
        .bind(write.reason)
        .bind(write.builder)
        .bind(write.duplicate_of)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
        if let Some(original) = &original {
            // Requests merged into this one point at its original now: a
            // duplicate always names a request that is not merged.
            sqlx::query("UPDATE feature_requests SET duplicate_of = $1 WHERE duplicate_of = $2")
                .bind(original.id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            for (table, column, extra) in [
                ("request_votes", "tenant", ", at"),
                ("request_subscriptions", "account", ""),
            ] {
                sqlx::query(&format!(
                    "INSERT INTO {table} (request, {column}{extra}) \
                     SELECT $1, {column}{extra} FROM {table} WHERE request = $2 \
                     ON CONFLICT (request, {column}) DO NOTHING"
                ))
                .bind(original.id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
                sqlx::query(&format!("DELETE FROM {table} WHERE request = $1"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
            add_history(
                &mut tx,
                original.id,
                now,
                by,
                Some(original.status),
                original.status,
                &format!("#{id} merged into this request: its votes and subscribers moved here"),
            )
            .await?;
        }
        change_status(&mut tx, &row, to, by, &note, now).await?;
        tx.commit().await.db()?;
        Ok(row)
    }
}
