//! The wishlist's operations: tenants post requests, vote, comment and
//! subscribe; the operator assesses, opens funding and (with the builder)
//! delivers. Every account sees every request; who posted, voted, commented
//! or pledged is the operator's to see, and each account sees its own.

use crate::billing::Books;
use crate::{Actor, Error, Platform};
use spleis_domain::accounts::Role;
use spleis_domain::billing::CampaignRecord;
use spleis_domain::notifications::NotificationKind;
use spleis_domain::wishlist::{
    Assessment, MAX_BODY_CHARS, MAX_COMMENT_CHARS, MAX_LIST, NewDelivery, NewFunding, NewRequest,
    RequestDetail, RequestQuery, RequestSort, RequestStatus, RequestSummary, SIMILAR,
    WishlistError, check_assessment, search_words,
};
use spleis_store::now_ms;
use spleis_store::wishlist::AssessmentWrite;

impl Platform {
    /// A tenant (or the operator) posts a request; a tenant's own vote
    /// counts for it from the start, and the poster is subscribed.
    pub async fn post_request(
        &self,
        actor: &Actor,
        request: &NewRequest,
    ) -> Result<RequestDetail, Error> {
        actor.require(&[Role::Tenant, Role::Operator])?;
        let request = request.checked().map_err(WishlistError::from)?;
        let id = self
            .store
            .post_request(
                &request.title,
                &request.problem,
                &request.details,
                actor.id(),
                actor.role() == Role::Tenant,
                now_ms(),
            )
            .await?;
        tracing::info!(request = id, "request posted");
        self.request(actor, id).await
    }

    /// Requests matching the words of `q` (all of them), of one status,
    /// by votes or newest; at most `limit` ([`MAX_LIST`]).
    pub async fn requests(
        &self,
        actor: &Actor,
        q: &str,
        status: Option<RequestStatus>,
        sort: RequestSort,
        limit: u32,
    ) -> Result<Vec<RequestSummary>, Error> {
        let query = RequestQuery {
            words: search_words(q),
            status,
            sort,
            limit: limit.clamp(1, MAX_LIST),
        };
        Ok(self.store.requests(&query, actor.id()).await?)
    }

    /// Requests like the one being typed (`q`: its title so far), best
    /// match first: offered so a tenant votes instead of posting a
    /// duplicate.
    pub async fn similar_requests(
        &self,
        actor: &Actor,
        q: &str,
    ) -> Result<Vec<RequestSummary>, Error> {
        Ok(self
            .store
            .similar_requests(&search_words(q), SIMILAR, actor.id())
            .await?)
    }

    /// One request, as `actor` may see it.
    pub async fn request(&self, actor: &Actor, id: i64) -> Result<RequestDetail, Error> {
        let mut detail = self.store.request_detail(id, actor.id()).await?;
        detail.funding = match self.store.request_funding(id).await? {
            Some(funding) => Some(self.as_seen_by(actor, funding).await),
            None => None,
        };
        if !actor.is_operator() {
            detail.posted_by = None;
            detail.voters = None;
            for comment in &mut detail.comments {
                comment.author = None;
            }
            for entry in &mut detail.history {
                entry.by = None;
            }
        }
        Ok(detail)
    }

    /// A tenant votes for a request (once, however often it asks), or
    /// withdraws its vote.
    pub async fn vote(&self, actor: &Actor, id: i64, on: bool) -> Result<RequestDetail, Error> {
        let tenant = actor.require(&[Role::Tenant])?;
        self.store.set_vote(id, &tenant.id, on, now_ms()).await?;
        self.request(actor, id).await
    }

    /// Subscribes the actor to a request's changes, or unsubscribes it.
    pub async fn subscribe(
        &self,
        actor: &Actor,
        id: i64,
        on: bool,
    ) -> Result<RequestDetail, Error> {
        self.store.set_subscription(id, actor.id(), on).await?;
        self.request(actor, id).await
    }

    /// Comments on a request; its subscribers are told.
    pub async fn comment(
        &self,
        actor: &Actor,
        id: i64,
        body: &str,
    ) -> Result<RequestDetail, Error> {
        let body = spleis_domain::wishlist::body("the comment", body, MAX_COMMENT_CHARS, true)
            .map_err(WishlistError::from)?;
        self.store
            .add_comment(id, actor.id(), &body, now_ms())
            .await?;
        let row = self.store.request_row(id).await?;
        let text = format!("A new comment on request #{id} “{}”.", row.title);
        self.tell_subscribers(
            id,
            Some(actor.id()),
            NotificationKind::RequestComment,
            &text,
        )
        .await;
        self.request(actor, id).await
    }

    /// The operator assesses a request: a new status (with the reason shown
    /// to everyone), a duplicate merged into its original, a builder named.
    pub async fn assess(
        &self,
        actor: &Actor,
        id: i64,
        assessment: &Assessment,
    ) -> Result<RequestDetail, Error> {
        actor.require(&[Role::Operator])?;
        let reason = match &assessment.reason {
            Some(reason) => Some(
                spleis_domain::wishlist::body("the reason", reason, MAX_BODY_CHARS, false)
                    .map_err(WishlistError::from)?,
            ),
            None => None,
        };
        let builder = match &assessment.builder {
            Some(builder) => Some(
                spleis_domain::wishlist::line("the builder", builder, 64, true)
                    .map_err(WishlistError::from)?,
            ),
            None => None,
        };
        let told = self.store.subscribers(id).await?;
        let write = AssessmentWrite {
            reason: reason.as_deref().filter(|r| !r.is_empty()),
            duplicate_of: assessment.duplicate_of,
            builder: builder.as_deref(),
        };
        let row = self
            .store
            .assess_request(
                id,
                assessment.status,
                write,
                actor.id(),
                now_ms(),
                |row, original, funding| {
                    check_assessment(
                        row.id,
                        row.status,
                        assessment,
                        original.map(|o| (o.id, o.status, o.duplicate_of)),
                        funding,
                    )
                },
            )
            .await?;
        let text = match assessment.duplicate_of {
            Some(original) => format!(
                "Request #{id} “{}” was merged into #{original}: your vote and subscription moved there.",
                row.title
            ),
            None => format!(
                "Request #{id} “{}” is now {}.",
                row.title, assessment.status
            ),
        };
        self.tell(
            &told,
            Some(actor.id()),
            NotificationKind::RequestStatus,
            id,
            &text,
        )
        .await;
        self.request(actor, id).await
    }

    /// The operator opens funding to go first on an accepted request:
    /// answered with the campaign tenants pledge to.
    pub async fn open_request_funding(
        &self,
        actor: &Actor,
        id: i64,
        funding: &NewFunding,
    ) -> Result<CampaignRecord, Error> {
        actor.require(&[Role::Operator])?;
        let campaign = Books::new(&self.store)
            .open_funding(id, funding, actor.id(), now_ms())
            .await?;
        let row = self.store.request_row(id).await?;
        let text = format!(
            "Funding opened for request #{id} “{}”: pledge to have it built first.",
            row.title
        );
        self.tell_subscribers(id, Some(actor.id()), NotificationKind::RequestStatus, &text)
            .await;
        Ok(self.as_seen_by(actor, campaign).await)
    }

    /// A tenant pledges toward a request's funding; the pledge that reaches
    /// the goal funds it, and its pledgers and subscribers are told.
    pub(crate) async fn pledge_toward_request(
        &self,
        actor: &Actor,
        campaign: &str,
        amount: i64,
    ) -> Result<CampaignRecord, Error> {
        let tenant = actor.require(&[Role::Tenant])?;
        let pledged = Books::new(&self.store)
            .pledge_toward_request(campaign, &tenant.id, amount, now_ms())
            .await?;
        if pledged.reached
            && let Some(request) = pledged.campaign.request
        {
            let row = self.store.request_row(request).await?;
            let text = format!(
                "Request #{request} “{}” is funded: each pledge is invoiced at the next close, and the request is planned.",
                row.title
            );
            let mut told = self.store.subscribers(request).await?;
            told.extend(pledged.campaign.pledges.iter().map(|p| p.tenant.clone()));
            self.tell(
                &told,
                None,
                NotificationKind::FundingReached,
                request,
                &text,
            )
            .await;
        }
        Ok(self.as_seen_by(actor, pledged.campaign).await)
    }

    /// Lapses every request's funding whose deadline passed short of its
    /// goal, telling its pledgers; answers how many lapsed.
    pub async fn lapse_fundings(&self) -> Result<usize, Error> {
        let now = now_ms();
        let mut lapsed = 0;
        for id in self.store.lapsing_fundings(now).await? {
            if let Some(campaign) = Books::new(&self.store).lapse_funding(&id, now).await? {
                lapsed += 1;
                let request = campaign.request.unwrap_or_default();
                let text = format!(
                    "The funding of request #{request} ended short of its goal: your pledge is released and nothing is invoiced."
                );
                let pledgers: Vec<String> =
                    campaign.pledges.iter().map(|p| p.tenant.clone()).collect();
                self.tell(
                    &pledgers,
                    None,
                    NotificationKind::FundingLapsed,
                    request,
                    &text,
                )
                .await;
                tracing::info!(campaign = %id, request, "request funding lapsed");
            }
        }
        Ok(lapsed)
    }

    /// Lapses passed fundings every `every`, for as long as the platform
    /// runs (each node does; a lapse is one transaction, done once).
    pub fn spawn_funding_lapses(self: &std::sync::Arc<Self>, every: std::time::Duration) {
        let platform = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(error) = platform.lapse_fundings().await {
                    tracing::warn!(%error, "cannot lapse passed fundings");
                }
            }
        });
    }

    /// The operator, or an owner of the builder's namespace, delivers the
    /// request with a published version of a plugin in that namespace.
    pub async fn deliver_request(
        &self,
        actor: &Actor,
        id: i64,
        delivery: &NewDelivery,
    ) -> Result<RequestDetail, Error> {
        let row = self.store.request_row(id).await?;
        let owner = if actor.is_operator() {
            None
        } else {
            Some(actor.require(&[Role::Author])?.id.as_str())
        };
        let delivered = Books::new(&self.store)
            .deliver_request(id, delivery, owner, actor.id(), now_ms())
            .await?;
        let text = format!(
            "Request #{id} “{}” is delivered by {} {}.",
            row.title, delivery.package, delivery.version
        );
        let mut told = self.store.subscribers(id).await?;
        if let Some(funding) = &delivered.funding {
            told.extend(funding.pledges.iter().map(|p| p.tenant.clone()));
        }
        told.extend(delivered.builder);
        self.tell(
            &told,
            Some(actor.id()),
            NotificationKind::RequestDelivered,
            id,
            &text,
        )
        .await;
        self.request(actor, id).await
    }

    async fn tell_subscribers(
        &self,
        id: i64,
        except: Option<&str>,
        kind: NotificationKind,
        text: &str,
    ) {
        match self.store.subscribers(id).await {
            Ok(subscribers) => self.tell(&subscribers, except, kind, id, text).await,
            Err(error) => tracing::warn!(%error, request = id, "could not read subscribers"),
        }
    }

    /// Tells `accounts` (each once, never the one who acted) about request
    /// `id`. A failure to notify is logged: what happened stays done.
    async fn tell(
        &self,
        accounts: &[String],
        except: Option<&str>,
        kind: NotificationKind,
        id: i64,
        text: &str,
    ) {
        let mut accounts: Vec<String> = accounts
            .iter()
            .filter(|a| Some(a.as_str()) != except)
            .cloned()
            .collect();
        accounts.sort();
        accounts.dedup();
        if accounts.is_empty() {
            return;
        }
        let data = serde_json::json!({ "request": id });
        if let Err(error) = self
            .notify(&accounts, kind, &format!("request-{id}"), text, data)
            .await
        {
            tracing::warn!(%error, request = id, "could not notify");
        }
    }
}
