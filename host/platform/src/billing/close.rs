//! Closing a period: invoices, statements and ledger transactions, once.

use crate::{Actor, Error, Platform};
use serde::{Deserialize, Serialize};
use spleis_billing::discounts::Period;
use spleis_domain::accounts::Role;
use spleis_domain::billing::CloseSummary;
use spleis_store::now_ms;

/// What a close did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Closed {
    /// Whether this request closed the period (false: it was closed before,
    /// and the summary is that close's).
    pub closed_now: bool,
    /// The close's figures.
    pub summary: CloseSummary,
}

impl Platform {
    /// Operator: closes `period`, or answers the summary of its earlier
    /// close. Periods close in order; `early` closes the month still under
    /// way (its later usage goes into the next one). A close tells each
    /// invoiced tenant and each author and investor of its document.
    pub async fn close_period(
        &self,
        actor: &Actor,
        period: Period,
        early: bool,
    ) -> Result<Closed, Error> {
        let by = actor.require(&[Role::Operator])?;
        // Usage still queued belongs to the period it was recorded in: write
        // it before the close reads the period.
        self.usage.flush().await;
        let (summary, closed_now) = self
            .books()
            .close_period(period, &by.id, early, now_ms())
            .await?;
        if closed_now {
            // After the commit: the period is closed whether or not its
            // parties could be told.
            self.notify_documents(period).await;
        }
        Ok(Closed {
            closed_now,
            summary,
        })
    }
}
